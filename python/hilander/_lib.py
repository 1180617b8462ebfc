"""Loading libhilander.so.0 and declaring its C ABI for ctypes.

Everything that mirrors the C headers lives here: the function signatures,
the options structs (checked against the library at import, see
``_check_layouts``) and the status codes.  The rest of the package only
calls the ``lib`` object and the helpers of this module.
"""

from __future__ import annotations

import ctypes as C
import os
import sys
from typing import Dict, Optional, Tuple

# The oldest library this binding works with: 0.2.0 (HL_VERSION_NUMBER
# = MAJOR*10000 + MINOR*100 + PATCH), whose hl_cluster_options has knn_seed
# and which exports hl_cluster_from_graph.
MIN_LIBRARY_VERSION = 200
SONAME = "libhilander.so.0"
ENV_LIBRARY = "HILANDER_LIBRARY"

# ---- status codes (include/hilander/error.h; appended to, never renumbered) ----
HL_OK = 0
HL_EINVAL = 1
HL_ENOMEM = 2
HL_EIO = 3
HL_EFORMAT = 4
HL_ERANGE = 5
HL_ECANCELED = 6
HL_EVERSION = 7
HL_EINTERNAL = 8

# hl_score (include/hilander/model.h)
SCORES = {"prob": 0, "sim": 1, "snn": 2}
SCORE_NAMES = {v: k for k, v in SCORES.items()}
# hl_knn_method (include/hilander/graph.h)
KNN_METHODS = {"auto": 0, "exact": 1, "approx": 2}
HL_TRAIN_MAX_GRAPHS = 8


# ---- structs ------------------------------------------------------------------
# Mirrors of the public versioned structs.  Field order and types must match
# the headers exactly; tests/test_layout.py compares them with the header
# text, and _check_layouts() has the library confirm every size at import.
# Callback fields are declared as void pointers and set from CFUNCTYPE objects.

class KnnOptions(C.Structure):
    """struct hl_knn_options (include/hilander/graph.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("k", C.c_int64),
        ("method", C.c_int32),
        ("num_threads", C.c_int32),
        ("auto_threshold", C.c_int64),
        ("block_rows", C.c_int64),
        ("nlist", C.c_int64),
        ("nprobe", C.c_int64),
        ("target_recall", C.c_double),
        ("seed", C.c_uint64),
    ]


class ClusterOptions(C.Structure):
    """struct hl_cluster_options (include/hilander/cluster.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("k", C.c_int64),
        ("tau", C.c_float),
        ("score", C.c_int32),
        ("max_levels", C.c_int32),
        ("early_stop", C.c_int32),
        ("knn_method", C.c_int32),
        ("num_threads", C.c_int32),
        ("progress", C.c_void_p),
        ("progress_user", C.c_void_p),
        ("knn_auto_threshold", C.c_int64),
        ("knn_nlist", C.c_int64),
        ("knn_nprobe", C.c_int64),
        ("knn_target_recall", C.c_double),
        ("merge", C.c_float),
        ("knn_seed", C.c_uint64),  # 0.2.0
    ]


class ModelConfig(C.Structure):
    """struct hl_model_config (include/hilander/model.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("feature_dim", C.c_int64),
        ("hidden", C.c_int64),
        ("num_conv", C.c_int32),
        ("use_cluster_feat", C.c_int32),
        ("dropout", C.c_float),
        ("layer_type", C.c_int32),
        ("link_head", C.c_int32),
        ("edge_features", C.c_uint32),
        ("rel_rank", C.c_int32),
    ]


class TrainProgress(C.Structure):
    """struct hl_train_progress (include/hilander/train.h), filled by the library."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("epoch", C.c_int32),
        ("num_epochs", C.c_int32),
        ("step", C.c_int64),
        ("total_steps", C.c_int64),
        ("loss", C.c_double),
        ("loss_density", C.c_double),
        ("loss_link", C.c_double),
        ("lr", C.c_double),
        ("train_auc", C.c_double),
        ("train_ap", C.c_double),
        ("val_auc", C.c_double),
        ("val_ap", C.c_double),
        ("best_val_auc", C.c_double),
        ("val_level0_auc", C.c_double),
        ("val_level0_ap", C.c_double),
        ("val_cluster_f", C.c_double),
    ]


class TrainOptions(C.Structure):
    """struct hl_train_options (include/hilander/train.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("num_graphs", C.c_int32),
        ("k_list", C.c_int64 * HL_TRAIN_MAX_GRAPHS),
        ("levels", C.c_int32 * HL_TRAIN_MAX_GRAPHS),
        ("epochs", C.c_int32),
        ("batch_size", C.c_int64),
        ("lr", C.c_double),
        ("lr_min", C.c_double),
        ("momentum", C.c_double),
        ("weight_decay", C.c_double),
        ("focal", C.c_int32),
        ("balance", C.c_int32),
        ("val_fraction", C.c_double),
        ("eval_every", C.c_int32),
        ("patience", C.c_int32),
        ("select_tau", C.c_int32),
        ("seed", C.c_uint64),
        ("num_threads", C.c_int32),
        ("progress", C.c_void_p),
        ("progress_user", C.c_void_p),
        ("checkpoint_metric", C.c_int32),
        ("standardize_edge_features", C.c_int32),
        ("whiten", C.c_double),
    ]


class Metrics(C.Structure):
    """struct hl_metrics (include/hilander/metrics.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("pairwise_precision", C.c_double),
        ("pairwise_recall", C.c_double),
        ("pairwise_f", C.c_double),
        ("bcubed_precision", C.c_double),
        ("bcubed_recall", C.c_double),
        ("bcubed_f", C.c_double),
        ("nmi", C.c_double),
        ("num_true_clusters", C.c_int64),
        ("num_pred_clusters", C.c_int64),
    ]


# Versioned input structs and their init functions (name in the library).
VERSIONED_STRUCTS = {
    "hl_knn_options": (KnnOptions, "hl_knn_options_init"),
    "hl_cluster_options": (ClusterOptions, "hl_cluster_options_init"),
    "hl_model_config": (ModelConfig, "hl_model_config_init"),
    "hl_train_options": (TrainOptions, "hl_train_options_init"),
    "hl_metrics": (Metrics, "hl_metrics_init"),
}

ClusterProgressFn = C.CFUNCTYPE(C.c_int, C.c_int32, C.c_int64, C.c_int64, C.c_void_p)
TrainProgressFn = C.CFUNCTYPE(C.c_int, C.POINTER(TrainProgress), C.c_void_p)

_p = C.c_void_p
_f32p = C.POINTER(C.c_float)
_i64p = C.POINTER(C.c_int64)
_i32p = C.POINTER(C.c_int32)

# name: (restype, argtypes).  Handles are plain void pointers.
_SIGNATURES = {
    "hl_version": (C.c_char_p, []),
    "hl_version_number": (C.c_uint32, []),
    "hl_status_str": (C.c_char_p, [C.c_int]),
    "hl_last_error": (C.c_char_p, []),
    "hl_last_error_status": (C.c_int, []),
    "hl_clear_error": (None, []),
    "hl_knn_options_init": (C.c_int, [C.POINTER(KnnOptions), C.c_size_t]),
    "hl_knn_search": (C.c_int, [_f32p, C.c_int64, C.c_int64, C.POINTER(KnnOptions), _i64p, _f32p]),
    "hl_cluster_options_init": (C.c_int, [C.POINTER(ClusterOptions), C.c_size_t]),
    "hl_cluster": (C.c_int, [_p, _f32p, C.c_int64, C.c_int64, _i64p, C.POINTER(ClusterOptions),
                             C.POINTER(_p)]),
    "hl_clustering_free": (None, [_p]),
    "hl_clustering_num_levels": (C.c_int32, [_p]),
    "hl_clustering_num_points": (C.c_int64, [_p]),
    "hl_clustering_labels": (C.c_int, [_p, C.c_int32, _i64p]),
    "hl_clustering_level_stats": (C.c_int, [_p, C.c_int32, _i64p, _i64p, _i64p, _i64p]),
    "hl_clustering_confidence": (C.c_int, [_p, _f32p]),
    "hl_clustering_clusters": (C.c_int, [_p, C.c_int32, _i64p, _i64p]),
    "hl_model_config_init": (C.c_int, [C.POINTER(ModelConfig), C.c_size_t]),
    "hl_model_config_check": (C.c_int, [C.POINTER(ModelConfig)]),
    "hl_model_free": (None, [_p]),
    "hl_model_get_config": (C.c_int, [_p, C.POINTER(ModelConfig)]),
    "hl_model_num_params": (C.c_int64, [_p]),
    "hl_model_get_cluster_defaults": (C.c_int, [_p, _f32p, _i32p]),
    "hl_model_get_cluster_levels": (C.c_int, [_p, _i32p]),
    "hl_model_get_cluster_merge": (C.c_int, [_p, _f32p]),
    "hl_model_get_whitening": (C.c_int, [_p, _f32p, _i32p]),
    "hl_model_transform": (C.c_int, [_p, _f32p, C.c_int64, C.c_int64, _f32p]),
    "hl_model_save": (C.c_int, [_p, C.c_char_p]),
    "hl_model_load": (C.c_int, [C.c_char_p, C.POINTER(_p)]),
    "hl_train_options_init": (C.c_int, [C.POINTER(TrainOptions), C.c_size_t]),
    "hl_train_options_check": (C.c_int, [C.POINTER(TrainOptions)]),
    "hl_train": (C.c_int, [C.POINTER(ModelConfig), C.POINTER(TrainOptions), _f32p, _i64p, C.c_int64,
                           C.c_int64, C.POINTER(_p)]),
    "hl_metrics_init": (C.c_int, [C.POINTER(Metrics), C.c_size_t]),
    "hl_evaluate": (C.c_int, [_i64p, _i64p, C.c_int64, C.POINTER(Metrics)]),
}


# ---- errors ---------------------------------------------------------------------

class Error(Exception):
    """A libhilander call failed.

    ``status`` is the hl_status code, ``status_name`` its name
    (``"HL_EINVAL: invalid argument"``) and ``message`` the library's own
    ``hl_last_error()`` text naming the argument, row or file at fault.
    """

    def __init__(self, status: int, message: str, status_name: str = ""):
        self.status = status
        self.status_name = status_name or "status %d" % status
        self.message = message
        Exception.__init__(self, "%s: %s" % (self.status_name, message) if message else self.status_name)

    def __str__(self) -> str:
        return self.args[0]


class InvalidArgumentError(Error, ValueError):
    """HL_EINVAL / HL_ERANGE: an argument is invalid (NaN row, wrong dimension, k >= n, ...)."""


class FileError(Error, OSError):
    """HL_EIO: a file could not be opened, read, written or renamed."""

    def __init__(self, status: int, message: str, status_name: str = ""):
        Error.__init__(self, status, message, status_name)


class FormatError(Error, ValueError):
    """HL_EFORMAT / HL_EVERSION: a file is malformed, corrupted or of a newer version."""


class CanceledError(Error):
    """HL_ECANCELED: a progress callback asked to stop."""


class OutOfMemoryError(Error, MemoryError):
    """HL_ENOMEM: an allocation failed inside the library."""


class InternalError(Error):
    """HL_EINTERNAL: a bug in the library."""


class LibraryError(ImportError):
    """The shared library could not be loaded or is not usable by this binding."""


_ERROR_CLASSES = {
    HL_EINVAL: InvalidArgumentError,
    HL_ERANGE: InvalidArgumentError,
    HL_EIO: FileError,
    HL_EFORMAT: FormatError,
    HL_EVERSION: FormatError,
    HL_ECANCELED: CanceledError,
    HL_ENOMEM: OutOfMemoryError,
    HL_EINTERNAL: InternalError,
}


def make_error(status: int, message: Optional[str] = None) -> Error:
    """The exception for ``status``; ``message`` defaults to the calling
    thread's ``hl_last_error()`` (read right after the failing call: ctypes
    calls run on the calling OS thread, where the library keeps it)."""
    if message is None:
        message = lib.hl_last_error().decode("utf-8", "replace")
    name = lib.hl_status_str(status).decode("utf-8", "replace")
    return _ERROR_CLASSES.get(status, Error)(status, message, name)


def check(status: int) -> None:
    """Raise the matching Error if ``status`` is not HL_OK."""
    if status != HL_OK:
        raise make_error(status)


# ---- loading ----------------------------------------------------------------------

def _candidates() -> Tuple[list, str]:
    env = os.environ.get(ENV_LIBRARY)
    if env:
        return [env], "%s=%s" % (ENV_LIBRARY, env)
    here = os.path.dirname(os.path.abspath(__file__))
    local = [os.path.join(here, name) for name in (SONAME, "libhilander.so")]
    local = [p for p in local if os.path.exists(p)]
    return local + [SONAME], "the package directory and the system loader path"


def _loaded_path(handle: C.CDLL, fallback: str) -> str:
    """The file the dynamic loader actually mapped (dladdr on one symbol)."""

    class DlInfo(C.Structure):
        _fields_ = [("dli_fname", C.c_char_p), ("dli_fbase", C.c_void_p),
                    ("dli_sname", C.c_char_p), ("dli_saddr", C.c_void_p)]

    try:
        libc = C.CDLL(None)
        dladdr = libc.dladdr
        dladdr.restype = C.c_int
        dladdr.argtypes = [C.c_void_p, C.POINTER(DlInfo)]
        info = DlInfo()
        addr = C.cast(handle.hl_version, C.c_void_p)
        if dladdr(addr, C.byref(info)) and info.dli_fname:
            return os.path.realpath(info.dli_fname.decode(sys.getfilesystemencoding()))
    except (AttributeError, OSError):
        pass
    return fallback


def _load() -> Tuple[C.CDLL, str]:
    names, where = _candidates()
    errors = []
    for name in names:
        try:
            handle = C.CDLL(name)
        except OSError as e:
            errors.append(str(e))
            continue
        return handle, _loaded_path(handle, name)
    raise LibraryError(
        "hilander: cannot load %s (looked in %s): %s. Install the C library (its libhilander.so.0 "
        "on the loader path, e.g. /usr/lib or LD_LIBRARY_PATH) or set %s=/path/to/libhilander.so.0"
        % (SONAME, where, "; ".join(errors), ENV_LIBRARY))


def _declare(handle: C.CDLL, path: str) -> None:
    missing = []
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(handle, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise LibraryError("hilander: %s lacks %s; the library is too old or not libhilander"
                           % (path, ", ".join(missing)))


def _probe_size(init, cls, size: int) -> int:
    buf = C.create_string_buffer(size)
    return init(C.cast(buf, init.argtypes[0]), size)


def _check_layouts(handle: C.CDLL, path: str) -> Dict[str, Tuple[int, int]]:
    """Have the library confirm the binding's view of every versioned struct.

    The init functions accept exactly the struct sizes the library knows
    (from its first release's layout up to its own).  For each struct:
    the binding's sizeof must be accepted, struct_size must come back equal
    to it, and the library must write nothing past it (guard bytes).  The
    library's own size is found by bisection on the accepted sizes; a newer
    library (larger struct) is fine: the binding's struct is a prefix and
    the library gives the fields it lacks their defaults.
    Returns {struct name: (binding size, library size)}.
    """
    sizes = {}
    guard = 64
    for name, (cls, init_name) in VERSIONED_STRUCTS.items():
        init = getattr(handle, init_name)
        ours = C.sizeof(cls)
        buf = C.create_string_buffer(b"\xa5" * (ours + guard), ours + guard)
        st = init(C.cast(buf, init.argtypes[0]), ours)
        if st != HL_OK:
            msg = handle.hl_last_error().decode("utf-8", "replace")
            raise LibraryError("hilander: %s does not accept this binding's struct %s of %d bytes (%s); "
                               "the binding and the library do not match" % (path, name, ours, msg))
        view = cls.from_buffer(buf)
        if view.struct_size != ours or buf.raw[ours:] != b"\xa5" * guard:
            raise LibraryError("hilander: %s: %s(%d) did not fill exactly %d bytes; refusing to run"
                               % (path, init_name, ours, ours))
        lo, hi = ours, 1 << 16  # lo accepted; find the largest accepted size
        if _probe_size(init, cls, hi) == HL_OK:
            raise LibraryError("hilander: %s: %s accepts any size; refusing to run" % (path, init_name))
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _probe_size(init, cls, mid) == HL_OK:
                lo = mid
            else:
                hi = mid
        handle.hl_clear_error()
        sizes[name] = (ours, lo)
    return sizes


lib, library_path = _load()
_declare(lib, library_path)
def _check_version(number: int, version: str, path: str) -> None:
    """Refuse a library older than MIN_LIBRARY_VERSION."""
    if number < MIN_LIBRARY_VERSION:
        raise LibraryError("hilander: %s is libhilander %s; this binding needs %d.%d.%d or newer"
                           % (path, version, MIN_LIBRARY_VERSION // 10000, MIN_LIBRARY_VERSION // 100 % 100,
                              MIN_LIBRARY_VERSION % 100))


library_version_number = int(lib.hl_version_number())
_check_version(library_version_number, lib.hl_version().decode(), library_path)
struct_sizes = _check_layouts(lib, library_path)


def new_struct(cls):
    """A struct of the binding's layout filled with the library's defaults
    (its init function, given the binding's sizeof)."""
    s = cls()
    check(getattr(lib, VERSIONED_STRUCTS_BY_CLASS[cls])(C.byref(s), C.sizeof(s)))
    return s


VERSIONED_STRUCTS_BY_CLASS = {cls: init for cls, init in VERSIONED_STRUCTS.values()}
