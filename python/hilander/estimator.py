"""A scikit-learn-style clusterer over :func:`hilander.cluster`."""

from __future__ import annotations

import inspect
import os
from typing import Any, Dict, Optional, Union

import numpy as np

from ._core import Model, Clustering, cluster


class HiLander:
    """Hi-LANDER clustering with scikit-learn's clusterer conventions.

    Parameters are stored as given (no work in ``__init__``); ``fit(X)``
    clusters and sets ``labels_`` (int64, one per row), ``n_clusters_``,
    ``n_levels_`` and ``clustering_`` (the :class:`hilander.Clustering`).
    scikit-learn is not imported, but ``get_params``/``set_params`` follow
    its protocol, so ``sklearn.base.clone`` and grid searches work.

    Args:
        model: a :class:`hilander.Model`, a path to a model file (loaded in
            ``fit``), or None for the unsupervised decode.
        k, tau, score, levels, merge, method, threads: as :func:`hilander.cluster`;
            None = the library's default (or the model's stored value).
    """

    def __init__(self, model: Union[Model, str, "os.PathLike[str]", None] = None, k: Optional[int] = None,
                 tau: Optional[float] = None, score: Optional[str] = None, levels: Optional[int] = None,
                 merge: Optional[float] = None, method: Optional[str] = None,
                 threads: Optional[int] = None):
        self.model = model
        self.k = k
        self.tau = tau
        self.score = score
        self.levels = levels
        self.merge = merge
        self.method = method
        self.threads = threads

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self")

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The estimator's parameters (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> "HiLander":
        """Set parameters by name; unknown names raise ValueError.  Returns self."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError("invalid parameter %r for estimator HiLander; valid parameters: %s"
                                 % (name, ", ".join(valid)))
            setattr(self, name, value)
        return self

    def fit(self, X: Any, y: Any = None) -> "HiLander":
        """Cluster ``X``; ``y`` is ignored (present for API consistency).  Returns self."""
        model = self.model
        if model is not None and not isinstance(model, Model):
            model = Model.load(model)
        result: Clustering = cluster(X, model, k=self.k, tau=self.tau, score=self.score,
                                     levels=self.levels, merge=self.merge, method=self.method,
                                     threads=self.threads)
        self.clustering_ = result
        self.labels_: np.ndarray = result.labels
        self.n_clusters_ = result.num_clusters
        self.n_levels_ = result.levels
        self.n_features_in_ = int(np.shape(X)[1])
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Cluster ``X`` and return ``labels_``."""
        return self.fit(X).labels_

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        changed = ["%s=%r" % (name, getattr(self, name)) for name in self._get_param_names()
                   if getattr(self, name) is not sig.parameters[name].default]
        return "HiLander(%s)" % ", ".join(changed)
