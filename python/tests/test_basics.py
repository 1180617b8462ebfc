"""Version, loading, and values of knn/evaluate/cluster against NumPy."""
import os
import re

import numpy as np
import pytest

import hilander
from conftest import blobs


def test_versions_and_library_path():
    assert re.fullmatch(r"\d+\.\d+\.\d+", hilander.__version__)
    v = hilander.library_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v)
    major, minor, patch = map(int, v.split("."))
    assert major * 10000 + minor * 100 + patch >= hilander._lib.MIN_LIBRARY_VERSION
    path = hilander.library_path()
    assert os.path.isfile(path) and "libhilander" in os.path.basename(path)
    if os.environ.get("HILANDER_TEST_INSTALLED") == "1":  # not the checkout's copy
        assert "site-packages" in hilander.__file__ or "dist-packages" in hilander.__file__
    env = os.environ.get("HILANDER_LIBRARY")
    if env:  # the file named by the variable is the one loaded
        assert os.path.realpath(env) == os.path.realpath(path)


def test_struct_sizes_confirmed_by_library():
    sizes = hilander.struct_sizes()
    assert set(sizes) == {"hl_knn_options", "hl_cluster_options", "hl_model_config", "hl_train_options",
                          "hl_metrics"}
    for name, (ours, theirs) in sizes.items():
        assert ours <= theirs, name


def _cosine(x):
    xn = x.astype(np.float64)
    xn /= np.linalg.norm(xn, axis=1, keepdims=True)
    return xn @ xn.T


def test_knn_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 24)).astype(np.float32)
    k = 7
    ids, sims = hilander.knn(x, k, method="exact")
    assert ids.shape == (300, k) and ids.dtype == np.int64
    assert sims.shape == (300, k) and sims.dtype == np.float32
    s = _cosine(x)
    np.fill_diagonal(s, 2.0)  # self first
    ref = np.argsort(-s, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(ids, ref)
    np.fill_diagonal(s, 1.0)
    np.testing.assert_allclose(sims, np.take_along_axis(s, ref, axis=1), atol=1e-5)
    assert (sims[:, 0] == 1.0).all()


def test_knn_methods_and_threads_agree():
    x, _ = blobs()
    a = hilander.knn(x, 5, "exact", threads=1)
    b = hilander.knn(x, 5, "auto", threads=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    ids, _ = hilander.knn(x, 5, "approx")
    assert (ids[:, 0] == np.arange(len(x))).all()


def _reference_scores(pred, truth):
    """Pairwise, BCubed and NMI computed directly with NumPy."""
    n = len(pred)
    same_p = pred[:, None] == pred[None, :]
    same_t = truth[:, None] == truth[None, :]
    off = ~np.eye(n, dtype=bool)
    tp = np.sum(same_p & same_t & off)
    pp = tp / np.sum(same_p & off)
    pr = tp / np.sum(same_t & off)
    both = np.sum(same_p & same_t, axis=1)
    bp = np.mean(both / same_p.sum(axis=1))
    br = np.mean(both / same_t.sum(axis=1))
    _, pi = np.unique(pred, return_inverse=True)
    _, ti = np.unique(truth, return_inverse=True)
    joint = np.zeros((pi.max() + 1, ti.max() + 1))
    np.add.at(joint, (pi, ti), 1.0)
    joint /= n
    px, py = joint.sum(1), joint.sum(0)
    nz = joint > 0
    mi = np.sum(joint[nz] * np.log(joint[nz] / np.outer(px, py)[nz]))
    hx, hy = -np.sum(px * np.log(px)), -np.sum(py * np.log(py))
    return {"pairwise_precision": pp, "pairwise_recall": pr, "pairwise_f": 2 * pp * pr / (pp + pr),
            "bcubed_precision": bp, "bcubed_recall": br, "bcubed_f": 2 * bp * br / (bp + br),
            "nmi": mi / ((hx + hy) / 2), "num_pred_clusters": len(np.unique(pred)),
            "num_true_clusters": len(np.unique(truth))}


def test_evaluate_matches_numpy():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 12, size=400)
    pred = np.where(rng.random(400) < 0.7, truth, rng.integers(0, 20, size=400)) * 7 - 3  # any int64 values
    got = hilander.evaluate(pred, truth)
    ref = _reference_scores(pred, truth)
    assert set(got) == set(ref)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    perfect = hilander.evaluate(truth, truth)
    assert perfect["pairwise_f"] == 1.0 and perfect["bcubed_f"] == 1.0 and perfect["nmi"] == pytest.approx(1.0)


def test_evaluate_argument_order():
    truth = np.array([0, 0, 1, 1, 2, 2])
    pred = np.zeros(6, dtype=np.int64)  # one cluster: precision low, recall 1
    m = hilander.evaluate(pred, truth)
    assert m["pairwise_recall"] == 1.0 and m["pairwise_precision"] < 0.5
    assert m["num_pred_clusters"] == 1 and m["num_true_clusters"] == 3


def test_cluster_blobs_unsupervised():
    x, y = blobs()
    r = hilander.cluster(x)  # library defaults
    assert isinstance(r, hilander.Clustering)
    assert r.labels.dtype == np.int64 and r.labels.shape == (len(x),)
    assert r.levels >= 1 and len(r.level_stats) == r.levels
    np.testing.assert_array_equal(r.labels_at(-1), r.labels)
    np.testing.assert_array_equal(r.labels_at(r.levels - 1), r.labels)
    with pytest.raises(IndexError):
        r.labels_at(r.levels)
    # labels are 0..C-1 in order of first appearance
    _, first = np.unique(r.labels, return_index=True)
    assert list(r.labels[np.sort(first)]) == list(range(r.num_clusters))
    assert r.num_clusters == r.level_stats[-1]["num_clusters"] == r.labels.max() + 1
    assert r.level_stats[0]["num_nodes"] == len(x)
    m = hilander.evaluate(r.labels, y)
    assert m["pairwise_precision"] == 1.0 and m["pairwise_f"] > 0.95 and m["num_pred_clusters"] <= 8


def test_cluster_confidence_sizes_representatives():
    x, y = blobs()
    r = hilander.cluster(x, levels=2, early_stop=False)
    assert r.confidence.dtype == np.float32 and r.confidence.shape == (len(x),)
    assert np.all((r.confidence >= 0) & (r.confidence <= 1))
    assert np.any(r.confidence == 1.0)  # the peaks of level-0 trees
    for level in range(r.levels):
        lab = r.labels_at(level)
        sizes, reps = r.sizes_at(level), r.representatives_at(level)
        assert len(sizes) == len(reps) == r.level_stats[level]["num_clusters"]
        np.testing.assert_array_equal(sizes, np.bincount(lab, minlength=len(sizes)))
        np.testing.assert_array_equal(lab[reps], np.arange(len(reps)))  # each lies in its cluster
    with pytest.raises(IndexError):
        r.sizes_at(r.levels)


def test_cluster_options_change_result():
    x, y = blobs(spread=0.35)
    loose = hilander.cluster(x, score="sim", tau=0.0, levels=3)
    strict = hilander.cluster(x, score="sim", tau=0.999, levels=1)
    assert loose.num_clusters < strict.num_clusters
    oracle = hilander.cluster(x, truth=y, k=8)
    assert hilander.evaluate(oracle.labels, y)["pairwise_precision"] == 1.0


def test_threads_do_not_change_result(omniglot):
    x, _ = omniglot["test"]
    a = hilander.cluster(x, threads=1)
    b = hilander.cluster(x, threads=2)
    np.testing.assert_array_equal(a.hierarchy, b.hierarchy)


def test_public_functions_documented_and_typed():
    import inspect
    for name in ("cluster", "train", "knn", "evaluate", "library_version", "library_path"):
        fn = getattr(hilander, name)
        assert fn.__doc__ and len(fn.__doc__) > 40, name
        sig = inspect.signature(fn)
        assert sig.return_annotation is not inspect.Signature.empty, name
        for p in sig.parameters.values():
            if name not in ("library_version", "library_path"):
                assert p.annotation is not inspect.Parameter.empty, (name, p.name)
    for cls in (hilander.Model, hilander.Clustering, hilander.HiLander):
        assert cls.__doc__
        for attr, value in vars(cls).items():
            if not attr.startswith("_") and (callable(value) or isinstance(value, (property, classmethod))):
                assert getattr(cls, attr).__doc__, (cls.__name__, attr)
