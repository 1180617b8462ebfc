"""Shared fixtures.  The package under test is python/hilander of this
checkout (or, with HILANDER_TEST_INSTALLED=1, the installed one); the C
library is found as the package finds it (HILANDER_LIBRARY, ...).  The
bundled Omniglot features and the ``hilander`` program (HILANDER_CLI, else
on PATH) are required: a test that needs them fails when they are missing."""
import os
import shutil
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if os.environ.get("HILANDER_TEST_INSTALLED") != "1":
    sys.path.insert(0, os.path.dirname(HERE))

import hilander  # noqa: E402

DATA = os.path.join(ROOT, "data", "omniglot")
INCLUDE = os.path.join(ROOT, "include", "hilander")

# Small training settings: enough for a real model, a few seconds on 2 cores.
TRAIN_ARGS = dict(epochs=1, hidden=32, threads=2)


def _need(path):
    if not os.path.exists(path):
        pytest.fail("%s is missing (the tests run from a libhilander checkout)" % path)
    return path


@pytest.fixture(scope="session")
def omniglot():
    """{"train": (X, y), "test": (X, y)} of the bundled Omniglot features."""
    out = {}
    for split in ("train", "test"):
        x = np.load(_need(os.path.join(DATA, split + "_features.npy")))
        y = np.load(_need(os.path.join(DATA, split + "_labels.npy")))
        out[split] = (x, y)
    return out


@pytest.fixture(scope="session")
def data_dir():
    return _need(DATA)


@pytest.fixture(scope="session")
def include_dir():
    return _need(INCLUDE)


@pytest.fixture(scope="session")
def cli():
    """The `hilander` program built with the library under test."""
    path = os.environ.get("HILANDER_CLI") or shutil.which("hilander")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("the hilander program is needed: set HILANDER_CLI=/path/to/hilander")
    return path


@pytest.fixture(scope="session")
def trained(omniglot, tmp_path_factory):
    """(model, path): a model trained on the Omniglot train split, saved."""
    x, y = omniglot["train"]
    model = hilander.train(x, y, **TRAIN_ARGS)
    path = str(tmp_path_factory.mktemp("model") / "omniglot.hlm")
    model.save(path)
    return model, path


def blobs(n_per=30, classes=6, d=16, spread=0.05, seed=3):
    """Well-separated Gaussian blobs on the unit sphere: (X float32, y int64)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, d))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    y = np.repeat(np.arange(classes), n_per)
    x = centres[y] + spread * rng.normal(size=(classes * n_per, d))
    order = rng.permutation(len(y))
    return x[order].astype(np.float32), y[order].astype(np.int64)
