"""Array conversion (no copy for C-contiguous float32) and errors carrying
the library's messages."""
import ctypes

import numpy as np
import pytest

import hilander
from hilander import _core
from conftest import blobs


class _RecordingLib:
    """Stands in for the library object: records the feature pointer that
    hl_cluster / hl_knn_search receive, then calls the real function."""

    def __init__(self, real):
        self.real, self.pointers = real, []

    def __getattr__(self, name):
        fn = getattr(self.real, name)
        if name not in ("hl_cluster", "hl_knn_search"):
            return fn

        def call(*args):
            x = args[1] if name == "hl_cluster" else args[0]
            self.pointers.append(ctypes.cast(x, ctypes.c_void_p).value)
            return fn(*args)
        return call


def test_float32_c_contiguous_is_not_copied(monkeypatch):
    x, _ = blobs()
    assert x.dtype == np.float32 and x.flags.c_contiguous
    assert _core._features(x) is x
    rec = _RecordingLib(_core.lib)
    monkeypatch.setattr(_core, "lib", rec)
    hilander.cluster(x)
    hilander.knn(x, 3)
    # the library read the caller's own buffer
    assert rec.pointers == [x.ctypes.data, x.ctypes.data]
    x64 = x.astype(np.float64)
    hilander.cluster(x64)
    assert rec.pointers[-1] != x64.ctypes.data


@pytest.mark.parametrize("convert", [
    lambda x: x.astype(np.float64),
    lambda x: np.asfortranarray(x),
    lambda x: np.repeat(x, 2, axis=1)[:, ::2],  # strided view
    lambda x: x.tolist(),
    lambda x: x.astype(np.float16),
])
def test_other_array_likes_are_converted_once(convert):
    x, _ = blobs()
    other = convert(x)
    conv = _core._features(other)
    assert conv.dtype == np.float32 and conv.flags.c_contiguous and conv.shape == x.shape
    assert not np.shares_memory(conv, x)
    if np.asarray(other).dtype != np.float16:  # exact conversions: the same float32 values
        np.testing.assert_array_equal(conv, x)
    np.testing.assert_array_equal(hilander.cluster(other).labels, hilander.cluster(conv).labels)


def test_input_not_modified():
    x, _ = blobs()
    before = x.copy()
    hilander.cluster(x)
    hilander.knn(x, 4)
    np.testing.assert_array_equal(x, before)


def test_results_are_owned_numpy_arrays():
    x, _ = blobs()
    r = hilander.cluster(x)
    assert isinstance(r.labels, np.ndarray) and r.labels.base is not None  # a view of r.hierarchy
    assert r.hierarchy.flags.owndata
    ids, sims = hilander.knn(x, 3)
    assert ids.flags.owndata and sims.flags.owndata


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_row_raises_with_library_message(bad):
    x, _ = blobs()
    x[17, 3] = bad
    with pytest.raises(ValueError) as info:
        hilander.cluster(x)
    e = info.value
    assert isinstance(e, hilander.InvalidArgumentError) and isinstance(e, hilander.Error)
    assert e.status == 1 and e.status_name.startswith("HL_EINVAL")
    assert "17" in e.message  # the library names the row
    with pytest.raises(hilander.InvalidArgumentError, match="17"):
        hilander.knn(x, 3)


def test_zero_row_raises():
    x, _ = blobs()
    x[4] = 0
    with pytest.raises(hilander.InvalidArgumentError, match="4"):
        hilander.cluster(x)


def test_k_out_of_range_raises():
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    with pytest.raises(hilander.InvalidArgumentError, match="k"):
        hilander.cluster(x, k=5)  # k >= n
    with pytest.raises(hilander.InvalidArgumentError, match="k = 6"):
        hilander.knn(x, 6)
    with pytest.raises(hilander.InvalidArgumentError, match="k = 0"):
        hilander.knn(x, 0)


def test_shape_and_type_errors():
    with pytest.raises(ValueError, match="2-D"):
        hilander.cluster(np.ones(10, dtype=np.float32))
    with pytest.raises(ValueError, match="at least one row"):
        hilander.cluster(np.ones((0, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="real numbers"):
        hilander.cluster(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="score"):
        hilander.cluster(blobs()[0], score="cosine")
    with pytest.raises(ValueError, match="method"):
        hilander.knn(blobs()[0], 3, method="fast")
    with pytest.raises(hilander.InvalidArgumentError, match="tau"):
        hilander.cluster(blobs()[0], tau=1.5)
    with pytest.raises(hilander.InvalidArgumentError, match="prob"):
        hilander.cluster(blobs()[0], score="prob")  # needs a model
    with pytest.raises(TypeError):
        hilander.cluster(blobs()[0], model="model.hlm")


def test_labels_validation():
    x, y = blobs()
    with pytest.raises(ValueError, match="labels but X has"):
        hilander.train(x, y[:-1])
    with pytest.raises(ValueError, match="integer"):
        hilander.train(x, y.astype(np.float64))
    with pytest.raises(ValueError, match="whiten"):
        hilander.train(x, y, whiten="yes")
    with pytest.raises(ValueError, match="integer"):
        hilander.evaluate(np.zeros(3), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="labels but X has"):
        hilander.evaluate(np.zeros(3, dtype=int), np.zeros(4, dtype=int))


def test_library_rejects_bad_training_options():
    x, y = blobs()
    with pytest.raises(hilander.InvalidArgumentError, match="val_fraction"):
        hilander.train(x, y, val_fraction=1.5)
    with pytest.raises(hilander.InvalidArgumentError, match="hidden"):
        hilander.train(x, y, hidden=-3)


def test_bad_model_files(tmp_path):
    missing = tmp_path / "missing.hlm"
    with pytest.raises(hilander.FileError) as info:
        hilander.Model.load(missing)
    assert isinstance(info.value, OSError) and "missing.hlm" in info.value.message
    junk = tmp_path / "junk.hlm"
    junk.write_bytes(b"this is not a model file at all" * 10)
    with pytest.raises(hilander.FormatError) as info:
        hilander.Model.load(junk)
    assert "junk.hlm" in str(info.value) and info.value.status_name.startswith("HL_EFORMAT")


def test_truncated_and_corrupted_model(trained, tmp_path):
    _, path = trained
    data = open(path, "rb").read()
    cut = tmp_path / "cut.hlm"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(hilander.FormatError, match="cut.hlm"):
        hilander.Model.load(cut)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.hlm"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(hilander.FormatError, match="bad.hlm"):
        hilander.Model.load(bad)


def test_model_dimension_mismatch(trained):
    model, _ = trained
    x = np.random.default_rng(0).normal(size=(50, model.feature_dim + 1)).astype(np.float32)
    with pytest.raises(hilander.InvalidArgumentError) as info:
        hilander.cluster(x, model)
    assert str(model.feature_dim) in info.value.message
