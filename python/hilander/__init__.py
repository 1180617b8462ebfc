"""hilander: Python binding of libhilander (Hi-LANDER clustering of embeddings).

NumPy in, labels out::

    import numpy as np, hilander
    model = hilander.train(X_train, y_train)        # or hilander.Model.load("m.hlm")
    result = hilander.cluster(X, model)
    print(result.labels, hilander.evaluate(result.labels, y))

The binding calls the installed C library ``libhilander.so.0`` through
ctypes.  It is found through ``HILANDER_LIBRARY=/path/to/libhilander.so.0``,
else next to this package, else through the system loader path;
:func:`library_path` and :func:`library_version` say which file was loaded.
"""

__version__ = "0.3.0"

from ._lib import (  # noqa: E402
    Error,
    InvalidArgumentError,
    FileError,
    FormatError,
    CanceledError,
    OutOfMemoryError,
    InternalError,
    LibraryError,
)
from . import _lib  # noqa: E402
from ._core import Model, Clustering, cluster, train, knn, evaluate  # noqa: E402
from .estimator import HiLander  # noqa: E402

__all__ = [
    "__version__", "library_version", "library_path", "cluster", "train", "knn", "evaluate",
    "Model", "Clustering", "HiLander", "Error", "InvalidArgumentError", "FileError", "FormatError",
    "CanceledError", "OutOfMemoryError", "InternalError", "LibraryError",
]


def library_version() -> str:
    """The version of the loaded C library (``hl_version()``), e.g. ``"0.1.0"``."""
    return _lib.lib.hl_version().decode()


def library_path() -> str:
    """The file of the loaded C library (as mapped by the dynamic loader)."""
    return _lib.library_path


def struct_sizes() -> dict:
    """{struct name: (size in this binding, size in the loaded library)} for
    every versioned options struct, as checked at import."""
    return dict(_lib.struct_sizes)
