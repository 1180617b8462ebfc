"""Model: save/load round trips and properties."""
import numpy as np
import pytest

import hilander


def test_properties(trained, omniglot):
    model, _ = trained
    assert model.feature_dim == omniglot["train"][0].shape[1]
    assert model.hidden == 32
    assert model.score in ("prob", "sim", "snn")
    assert 0.0 <= model.tau <= 1.0
    assert model.levels >= 0 and model.merge >= 0.0
    assert model.num_params > 0
    cfg = model.config
    assert cfg["feature_dim"] == model.feature_dim and cfg["hidden"] == 32
    cfg["hidden"] = 7  # a copy
    assert model.hidden == 32
    with pytest.raises(AttributeError):
        model.tau = 0.3
    assert "feature_dim=128" in repr(model)


def test_save_load_round_trip(trained, omniglot, tmp_path):
    model, path = trained
    again = hilander.Model.load(path)
    for name in ("feature_dim", "hidden", "score", "tau", "levels", "merge", "num_params", "config"):
        assert getattr(again, name) == getattr(model, name), name
    w1, w2 = model.whitening, again.whitening
    assert (w1 is None) == (w2 is None)
    if w1 is not None:
        np.testing.assert_array_equal(w1, w2)
    resaved = tmp_path / "again.hlm"
    again.save(str(resaved))
    assert resaved.read_bytes() == open(path, "rb").read()
    x = omniglot["test"][0][:1500]
    np.testing.assert_array_equal(hilander.cluster(x, model).hierarchy, hilander.cluster(x, again).hierarchy)
    np.testing.assert_array_equal(model.transform(x), again.transform(x))


def test_transform_matches_numpy(trained, omniglot):
    model, _ = trained
    x = omniglot["test"][0][:200]
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    w = model.whitening
    if w is not None:
        xn = xn @ w.T
        xn /= np.linalg.norm(xn, axis=1, keepdims=True)
    np.testing.assert_allclose(model.transform(x), xn, atol=2e-5)


def test_close_and_context_manager(trained):
    _, path = trained
    with hilander.Model.load(path) as m:
        assert m.hidden == 32
    with pytest.raises(ValueError, match="closed"):
        m.hidden
    m.close()  # idempotent
    assert "closed" in repr(m)
    with pytest.raises(TypeError):
        hilander.Model(None)


def test_save_to_bad_path_raises(trained, tmp_path):
    model, _ = trained
    with pytest.raises(hilander.FileError):
        model.save(str(tmp_path / "no-such-dir" / "m.hlm"))


def test_model_clusters_with_stored_defaults(trained, omniglot):
    model, _ = trained
    x, y = omniglot["test"]
    r = hilander.cluster(x, model)
    m = hilander.evaluate(r.labels, y)
    assert m["pairwise_f"] > 0.4 and m["nmi"] > 0.8
    same = hilander.cluster(x, model, tau=model.tau, score=model.score)
    np.testing.assert_array_equal(r.labels, same.labels)


def test_pickle_and_bytes(trained, omniglot):
    import copy
    import pickle
    model, path = trained
    data = model.to_bytes()
    assert data == open(path, "rb").read()
    clone = pickle.loads(pickle.dumps(model))
    assert clone.to_bytes() == data and clone._handle.value != model._handle.value
    x = omniglot["test"][0][:500]
    np.testing.assert_array_equal(hilander.cluster(x, clone).labels, hilander.cluster(x, model).labels)
    assert copy.deepcopy(model).to_bytes() == data
    est = pickle.loads(pickle.dumps(hilander.HiLander(model=model, k=8)))
    assert est.k == 8 and est.model.to_bytes() == data
    with pytest.raises(hilander.FormatError):
        hilander.Model.from_bytes(data[:100])
