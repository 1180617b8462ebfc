"""The functions of the package: cluster, train, knn, evaluate and Model."""

from __future__ import annotations

import ctypes as C
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._lib import lib, check, make_error, CanceledError, HL_OK, HL_ECANCELED

PathLike = Union[str, "os.PathLike[str]"]
ArrayLike = Any

_f32p = C.POINTER(C.c_float)
_i64p = C.POINTER(C.c_int64)


# ---- arrays --------------------------------------------------------------------

def _features(X: ArrayLike, name: str = "X") -> np.ndarray:
    """X as a C-contiguous float32 (n, d) array: the array itself when it
    already is one (no copy), else one converted copy."""
    a = np.asarray(X)
    if a.dtype.kind not in "fiu":
        raise ValueError("%s must hold real numbers, got dtype %s" % (name, a.dtype))
    if a.ndim != 2:
        raise ValueError("%s must be 2-D (n rows of d features), got shape %s" % (name, a.shape))
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError("%s must have at least one row and one column, got shape %s" % (name, a.shape))
    return np.ascontiguousarray(a, dtype=np.float32)


def _labels(y: ArrayLike, n: Optional[int], name: str) -> np.ndarray:
    """y as a C-contiguous int64 vector (of length n when n is given)."""
    a = np.asarray(y)
    if a.dtype.kind not in "iub":
        raise ValueError("%s must hold integer labels, got dtype %s" % (name, a.dtype))
    if a.ndim != 1:
        raise ValueError("%s must be 1-D, got shape %s" % (name, a.shape))
    if n is not None and a.shape[0] != n:
        raise ValueError("%s has %d labels but X has %d rows" % (name, a.shape[0], n))
    if a.shape[0] < 1:
        raise ValueError("%s is empty" % name)
    return np.ascontiguousarray(a, dtype=np.int64)


def _fptr(a: np.ndarray):
    return a.ctypes.data_as(_f32p)


def _iptr(a: np.ndarray):
    return a.ctypes.data_as(_i64p)


def _score_code(score: Optional[str]) -> Optional[int]:
    if score is None:
        return None
    try:
        return _lib.SCORES[score]
    except (KeyError, TypeError):
        raise ValueError("score must be one of %s or None, got %r" % (", ".join(_lib.SCORES), score)) from None


def _method_code(method: str) -> int:
    try:
        return _lib.KNN_METHODS[method]
    except (KeyError, TypeError):
        raise ValueError("method must be one of %s, got %r" % (", ".join(_lib.KNN_METHODS), method)) from None


# ---- progress callbacks --------------------------------------------------------

class _Progress:
    """Wraps a Python progress callable for the library.

    The callable returns None/True to go on, False to stop.  An exception
    raised by it (KeyboardInterrupt included) stops the library call too and
    is raised again once the library has returned and cleaned up; ctypes
    would otherwise print and swallow it.
    """

    def __init__(self, fn: Optional[Callable[[Dict[str, Any]], Any]], ctype, convert):
        self.fn = fn
        self.exc: Optional[BaseException] = None
        self.stopped = False
        self._convert = convert
        self.c_fn = ctype(self._call) if fn is not None else None

    def _call(self, *args) -> int:
        try:
            if self.fn(self._convert(*args)) is False:
                self.stopped = True
                return 1
            return 0
        except BaseException as e:  # noqa: B902 - KeyboardInterrupt must stop the call too
            self.exc = e
            return 1

    def pointer(self) -> Optional[int]:
        return C.cast(self.c_fn, C.c_void_p).value if self.c_fn is not None else None

    def raise_for(self, status: int, what: str) -> None:
        """Turn a failed status into the right exception."""
        if status == HL_OK:
            return
        err = make_error(status)
        if status == HL_ECANCELED and self.exc is not None:
            raise self.exc from err
        if status == HL_ECANCELED:
            raise CanceledError(status, "%s stopped: the progress callback returned False (%s)"
                                % (what, err.message), err.status_name)
        raise err


def _cluster_progress_args(level, num_nodes, edges_added, _user):
    return {"level": int(level), "num_nodes": int(num_nodes), "edges_added": int(edges_added)}


def _train_progress_args(p, _user):
    """The fields of hl_train_progress the library filled (its struct_size
    may be smaller, for an older library, or larger, for a newer one)."""
    contents = p.contents
    size = contents.struct_size
    out = {}
    for fname, ftype in _lib.TrainProgress._fields_[1:]:
        field = getattr(_lib.TrainProgress, fname)
        if field.offset + field.size <= size:
            out[fname] = getattr(contents, fname)
    return out


# ---- Model -------------------------------------------------------------------------

class Model:
    """A trained Hi-LANDER model (an ``hl_model`` handle).

    Create one with :func:`train` or :meth:`Model.load`.  The handle is freed
    when the object is garbage-collected or on :meth:`close` (also through
    ``with``).  A model may be used by several threads at once for clustering.
    """

    __slots__ = ("_handle", "__weakref__")

    def __init__(self, _handle: C.c_void_p):
        if not isinstance(_handle, C.c_void_p) or not _handle.value:
            raise TypeError("Model objects are made by hilander.train() or Model.load()")
        self._handle = _handle

    @classmethod
    def load(cls, path: PathLike) -> "Model":
        """Load a model file written by :meth:`save` or ``hilander train``.

        Raises :class:`FileError` if the file cannot be read and
        :class:`FormatError` if it is truncated, corrupted or of a newer
        format, with the library's message naming the file and the fault.
        """
        h = C.c_void_p()
        check(lib.hl_model_load(os.fsencode(path), C.byref(h)))
        return cls(h)

    def save(self, path: PathLike) -> None:
        """Write the model to ``path`` atomically (temporary file + rename)."""
        check(lib.hl_model_save(self._ptr(), os.fsencode(path)))

    def to_bytes(self) -> bytes:
        """The model file's bytes (as :meth:`save` writes them)."""
        with tempfile.TemporaryDirectory(prefix="hilander-") as d:
            path = os.path.join(d, "model.hlm")
            self.save(path)
            with open(path, "rb") as f:
                return f.read()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        """A model from the bytes of a model file (checked like :meth:`load`)."""
        with tempfile.TemporaryDirectory(prefix="hilander-") as d:
            path = os.path.join(d, "model.hlm")
            with open(path, "wb") as f:
                f.write(data)
            return cls.load(path)

    def __reduce__(self):
        # pickle (and copy.deepcopy) through the documented model file format
        return (Model.from_bytes, (self.to_bytes(),))

    def close(self) -> None:
        """Free the model now (it is unusable afterwards).  Idempotent."""
        h, self._handle = getattr(self, "_handle", None), None
        if h is not None and h.value:
            lib.hl_model_free(h)

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _ptr(self) -> C.c_void_p:
        if self._handle is None:
            raise ValueError("the model was closed")
        return self._handle

    @property
    def config(self) -> Dict[str, int]:
        """The model's configuration (hl_model_config) as a new dict."""
        cfg = _lib.new_struct(_lib.ModelConfig)
        check(lib.hl_model_get_config(self._ptr(), C.byref(cfg)))
        return {name: getattr(cfg, name) for name, _ in _lib.ModelConfig._fields_[1:]}

    @property
    def feature_dim(self) -> int:
        """The input feature dimension d the model was trained for."""
        return int(self.config["feature_dim"])

    @property
    def hidden(self) -> int:
        """The hidden width of the network."""
        return int(self.config["hidden"])

    @property
    def num_params(self) -> int:
        """The number of trainable float parameters."""
        return int(lib.hl_model_num_params(self._ptr()))

    def _defaults(self) -> Tuple[float, int]:
        tau, score = C.c_float(), C.c_int32()
        check(lib.hl_model_get_cluster_defaults(self._ptr(), C.byref(tau), C.byref(score)))
        return tau.value, score.value

    @property
    def tau(self) -> float:
        """The stored default edge-score threshold used by :func:`cluster`."""
        return self._defaults()[0]

    @property
    def score(self) -> str:
        """The stored default edge score: ``"prob"``, ``"sim"`` or ``"snn"``."""
        code = self._defaults()[1]
        return _lib.SCORE_NAMES.get(code, str(code))

    @property
    def levels(self) -> int:
        """The stored level limit (0 = the library's automatic limit)."""
        v = C.c_int32()
        check(lib.hl_model_get_cluster_levels(self._ptr(), C.byref(v)))
        return v.value

    @property
    def merge(self) -> float:
        """The stored linkage-merge threshold (0 = off)."""
        v = C.c_float()
        check(lib.hl_model_get_cluster_merge(self._ptr(), C.byref(v)))
        return v.value

    @property
    def whitening(self) -> Optional[np.ndarray]:
        """The stored (d, d) feature map, or None if the model has none."""
        present = C.c_int32()
        check(lib.hl_model_get_whitening(self._ptr(), None, C.byref(present)))
        if not present.value:
            return None
        d = self.feature_dim
        w = np.empty((d, d), dtype=np.float32)
        check(lib.hl_model_get_whitening(self._ptr(), _fptr(w), C.byref(present)))
        return w

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The features as the model sees them: rows L2-normalised, mapped by
        the model's feature map (if any) and normalised again."""
        x = _features(X)
        out = np.empty_like(x)
        check(lib.hl_model_transform(self._ptr(), _fptr(x), x.shape[0], x.shape[1], _fptr(out)))
        return out

    def __repr__(self) -> str:
        if self._handle is None:
            return "<hilander.Model (closed)>"
        return "<hilander.Model feature_dim=%d hidden=%d score=%s tau=%.3f>" % (
            self.feature_dim, self.hidden, self.score, self.tau)


# ---- cluster --------------------------------------------------------------------

class Clustering:
    """The result of :func:`cluster`: labels after every level of the hierarchy.

    ``labels`` are the final labels (int64, one per row, 0..C-1 in order of
    first appearance); ``levels`` is the number of levels run;
    ``labels_at(level)`` gives the labels after one level; ``level_stats``
    is a list with one dict per level (``num_nodes``, ``num_edges``,
    ``edges_added``, ``num_clusters``).  ``confidence`` (float32, one per
    row, in [0, 1]) is the score of the level-0 link that attached each row
    to its cluster (1 for the densest row of a level-0 tree);
    ``sizes_at(level)`` and ``representatives_at(level)`` give, per cluster
    id of that level, its number of rows and the row it grew from.  All
    arrays are owned by Python: the library's result is copied out and freed
    at once.
    """

    def __init__(self, hierarchy: np.ndarray, level_stats: List[Dict[str, int]],
                 confidence: np.ndarray, sizes: List[np.ndarray], representatives: List[np.ndarray]):
        self.hierarchy = hierarchy
        self.level_stats = level_stats
        self.confidence = confidence
        self._sizes = sizes
        self._representatives = representatives

    def sizes_at(self, level: int = -1) -> np.ndarray:
        """Rows per cluster after ``level`` (index = cluster id), int64."""
        self.labels_at(level)
        return self._sizes[level]

    def representatives_at(self, level: int = -1) -> np.ndarray:
        """The row each cluster of ``level`` grew from (index = cluster id), int64."""
        self.labels_at(level)
        return self._representatives[level]

    @property
    def levels(self) -> int:
        """Number of levels run (>= 1)."""
        return int(self.hierarchy.shape[0])

    @property
    def labels(self) -> np.ndarray:
        """Final labels, int64 (n,)."""
        return self.hierarchy[-1]

    @property
    def num_clusters(self) -> int:
        """Number of final clusters."""
        return int(self.level_stats[-1]["num_clusters"])

    def labels_at(self, level: int) -> np.ndarray:
        """Labels after ``level`` (0-based; negative counts from the end, -1 = final)."""
        if not -self.levels <= level < self.levels:
            raise IndexError("level %d out of range: %d level(s) were run" % (level, self.levels))
        return self.hierarchy[level]

    def __len__(self) -> int:
        return int(self.hierarchy.shape[1])

    def __repr__(self) -> str:
        return "<hilander.Clustering n=%d levels=%d clusters=%d>" % (len(self), self.levels, self.num_clusters)


def cluster(X: ArrayLike, model: Optional[Model] = None, *, k: Optional[int] = None,
            tau: Optional[float] = None, score: Optional[str] = None, levels: Optional[int] = None,
            merge: Optional[float] = None, early_stop: Optional[bool] = None,
            method: Optional[str] = None, truth: Optional[ArrayLike] = None,
            threads: Optional[int] = None, seed: Optional[int] = None,
            progress: Optional[Callable[[Dict[str, int]], Optional[bool]]] = None) -> Clustering:
    """Cluster the rows of ``X`` (hl_cluster).

    Args:
        X: (n, d) features, any 2-D real array-like; a C-contiguous float32
            array is passed without a copy.
        model: a trained :class:`Model`, or None for the unsupervised decode.
        k: neighbours per level, self included.
        tau: edge-score threshold in [0, 1].
        score: ``"prob"`` (the model's link probability), ``"sim"`` or ``"snn"``.
        levels: level limit; 0 = automatic.
        merge: linkage-merge threshold; 0 = off.
        early_stop: stop the hierarchy when a level adds too few edges.
        method: kNN search, ``"auto"``, ``"exact"`` or ``"approx"``.
        truth: n true labels for an oracle run (diagnostics); the model is then ignored.
        threads: 0 = all cores; results never depend on it.
        seed: seed of the approximate (IVF) kNN search.
        progress: called after every level with a dict (``level``,
            ``num_nodes``, ``edges_added``); returning False stops the call
            with :class:`CanceledError`, an exception it raises is re-raised.

    Every argument left at None takes the library's default
    (``hl_cluster_options_init``; a model's stored tau, score, levels and
    merge where the library documents it).

    Returns:
        a :class:`Clustering`.

    Raises:
        InvalidArgumentError (a ValueError) for NaN/inf or zero rows, a
        dimension that does not match the model, k >= n and the like, with
        the library's message.
    """
    x = _features(X)
    n, d = x.shape
    opts = _lib.new_struct(_lib.ClusterOptions)
    if k is not None:
        opts.k = int(k)
    if tau is not None:
        opts.tau = float(tau)
    code = _score_code(score)
    if code is not None:
        opts.score = code
    if levels is not None:
        opts.max_levels = int(levels)
    if merge is not None:
        opts.merge = float(merge)
    if early_stop is not None:
        opts.early_stop = 1 if early_stop else 0
    if method is not None:
        opts.knn_method = _method_code(method)
    if threads is not None:
        opts.num_threads = int(threads)
    if seed is not None:
        opts.knn_seed = int(seed)
    t = _labels(truth, n, "truth") if truth is not None else None
    if model is not None and not isinstance(model, Model):
        raise TypeError("model must be a hilander.Model or None, got %s" % type(model).__name__)
    cb = _Progress(progress, _lib.ClusterProgressFn, _cluster_progress_args)
    opts.progress = cb.pointer()
    handle = C.c_void_p()
    st = lib.hl_cluster(model._ptr() if model is not None else None, _fptr(x), n, d,
                        _iptr(t) if t is not None else None, C.byref(opts), C.byref(handle))
    cb.raise_for(st, "clustering")
    try:
        num_levels = lib.hl_clustering_num_levels(handle)
        hierarchy = np.empty((num_levels, n), dtype=np.int64)
        stats = []
        sizes, reps = [], []
        vals = [C.c_int64() for _ in range(4)]
        for level in range(num_levels):
            check(lib.hl_clustering_labels(handle, level, _iptr(hierarchy[level])))
            check(lib.hl_clustering_level_stats(handle, level, *[C.byref(v) for v in vals]))
            stats.append(dict(zip(("num_nodes", "num_edges", "edges_added", "num_clusters"),
                                  (v.value for v in vals))))
            nc = stats[-1]["num_clusters"]
            sizes.append(np.empty(nc, dtype=np.int64))
            reps.append(np.empty(nc, dtype=np.int64))
            check(lib.hl_clustering_clusters(handle, level, _iptr(sizes[-1]), _iptr(reps[-1])))
        confidence = np.empty(n, dtype=np.float32)
        check(lib.hl_clustering_confidence(handle, _fptr(confidence)))
    finally:
        lib.hl_clustering_free(handle)
    return Clustering(hierarchy, stats, confidence, sizes, reps)


# ---- train --------------------------------------------------------------------------

def train(X: ArrayLike, y: ArrayLike, *, hidden: Optional[int] = None, epochs: Optional[int] = None,
          seed: Optional[int] = None, whiten: Union[str, float, None] = None,
          val_fraction: Optional[float] = None, lr: Optional[float] = None,
          graphs: Optional[List[Tuple[int, int]]] = None, threads: Optional[int] = None,
          progress: Optional[Callable[[Dict[str, Any]], Optional[bool]]] = None) -> Model:
    """Train a Hi-LANDER model on labelled features (hl_train).

    A seeded share of the classes is held out to choose the checkpoint and
    the clustering defaults stored in the model (tau, score, levels, merge).
    Training is reproducible for a fixed seed and thread count, and the same
    arguments give the same model as ``hilander train``.

    Args:
        X: (n, d) features, any 2-D real array-like.
        y: n integer class labels.
        hidden: hidden width of the network.
        epochs: 0 = automatic.
        seed: seed of the initial weights, the validation split and the batches.
        whiten: ``"auto"`` (fit a within-class whitening and keep it if it
            helps the validation classes), a ridge > 0, or 0 = off.
        val_fraction: share of classes held out for validation, in [0, 1).
        lr: initial learning rate.
        graphs: (k, levels) pairs of the multi-level training graphs (at most 8).
        threads: 0 = all cores.
        progress: called at every step with a dict of the hl_train_progress
            fields (``epoch``, ``step``, ``loss``, ``val_auc``, ...);
            returning False stops training with :class:`CanceledError`, an
            exception it raises (KeyboardInterrupt) is re-raised.

    Arguments left at None take the library's defaults
    (``hl_model_config_init``, ``hl_train_options_init``).

    Returns:
        the trained :class:`Model`.
    """
    x = _features(X)
    n, d = x.shape
    labels = _labels(y, n, "y")
    cfg = _lib.new_struct(_lib.ModelConfig)
    cfg.feature_dim = d
    if hidden is not None:
        cfg.hidden = int(hidden)
    opts = _lib.new_struct(_lib.TrainOptions)
    if epochs is not None:
        opts.epochs = int(epochs)
    if seed is not None:
        if int(seed) < 0:
            raise ValueError("seed must be a non-negative integer, got %r" % (seed,))
        opts.seed = int(seed)
    if whiten is not None:
        if whiten == "auto":
            opts.whiten = -1.0
        elif isinstance(whiten, str) or not float(whiten) >= 0:
            raise ValueError("whiten must be 'auto' or a number >= 0 (0 = off), got %r" % (whiten,))
        else:
            opts.whiten = float(whiten)
    if val_fraction is not None:
        opts.val_fraction = float(val_fraction)
    if lr is not None:
        opts.lr = float(lr)
    if graphs is not None:
        pairs = [(int(a), int(b)) for a, b in graphs]
        if not 1 <= len(pairs) <= _lib.HL_TRAIN_MAX_GRAPHS:
            raise ValueError("graphs must hold 1 to %d (k, levels) pairs" % _lib.HL_TRAIN_MAX_GRAPHS)
        opts.num_graphs = len(pairs)
        for i, (kk, ll) in enumerate(pairs):
            opts.k_list[i] = kk
            opts.levels[i] = ll
    if threads is not None:
        opts.num_threads = int(threads)
    check(lib.hl_model_config_check(C.byref(cfg)))
    check(lib.hl_train_options_check(C.byref(opts)))
    cb = _Progress(progress, _lib.TrainProgressFn, _train_progress_args)
    opts.progress = cb.pointer()
    handle = C.c_void_p()
    st = lib.hl_train(C.byref(cfg), C.byref(opts), _fptr(x), _iptr(labels), n, d, C.byref(handle))
    if st != HL_OK:
        if handle.value:  # HL_ECANCELED hands back the best model so far: not wanted here
            lib.hl_model_free(handle)
        cb.raise_for(st, "training")
    return Model(handle)


# ---- knn / evaluate ---------------------------------------------------------------

def knn(X: ArrayLike, k: int, method: str = "auto", *, threads: Optional[int] = None
        ) -> Tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours (cosine) of every row of ``X`` (hl_knn_search).

    Row i of the results lists i itself first (similarity exactly 1), then
    its neighbours by decreasing similarity (ties: smaller index).

    Args:
        X: (n, d) features.
        k: neighbours per row, self included, 1 <= k <= n.
        method: ``"auto"``, ``"exact"`` or ``"approx"`` (IVF).
        threads: 0 = all cores; results never depend on it.

    Returns:
        ``(ids, sims)``: int64 (n, k) and float32 (n, k) arrays.
    """
    x = _features(X)
    n, d = x.shape
    opts = _lib.new_struct(_lib.KnnOptions)
    opts.k = int(k)
    opts.method = _method_code(method)
    if threads is not None:
        opts.num_threads = int(threads)
    if not 1 <= opts.k <= n:
        # The library validates k before it writes anything: let it reject
        # the call with its own message, with placeholder output arrays.
        ids = np.empty(1, dtype=np.int64)
        sims = np.empty(1, dtype=np.float32)
    else:
        ids = np.empty((n, opts.k), dtype=np.int64)
        sims = np.empty((n, opts.k), dtype=np.float32)
    check(lib.hl_knn_search(_fptr(x), n, d, C.byref(opts), _iptr(ids), _fptr(sims)))
    return ids, sims


def evaluate(labels: ArrayLike, truth: ArrayLike) -> Dict[str, float]:
    """Score predicted ``labels`` against ``truth`` (hl_evaluate).

    Returns:
        a dict: ``pairwise_precision``, ``pairwise_recall``, ``pairwise_f``,
        ``bcubed_precision``, ``bcubed_recall``, ``bcubed_f``, ``nmi``,
        ``num_true_clusters``, ``num_pred_clusters``.
    """
    pred = _labels(labels, None, "labels")
    t = _labels(truth, pred.shape[0], "truth")
    m = _lib.new_struct(_lib.Metrics)
    check(lib.hl_evaluate(_iptr(t), _iptr(pred), pred.shape[0], C.byref(m)))
    return {name: getattr(m, name) for name, _ in _lib.Metrics._fields_[1:]}
