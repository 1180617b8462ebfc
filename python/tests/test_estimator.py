"""HiLander follows scikit-learn's clusterer conventions (without sklearn)."""
import numpy as np
import pytest

import hilander
from conftest import blobs


def test_no_work_in_init_and_params_round_trip():
    est = hilander.HiLander(model="/no/such/model.hlm", k=12, tau=0.5)  # not loaded yet
    params = est.get_params()
    assert params == {"model": "/no/such/model.hlm", "k": 12, "tau": 0.5, "score": None, "levels": None,
                      "merge": None, "method": None, "threads": None}
    clone = type(est)(**est.get_params())  # what sklearn.base.clone does
    assert clone.get_params() == params
    with pytest.raises(hilander.FileError, match="no/such/model.hlm"):
        est.fit(blobs()[0])
    assert not hasattr(est, "labels_")


def test_set_params():
    est = hilander.HiLander()
    assert est.set_params(k=7, score="sim") is est
    assert est.k == 7 and est.score == "sim"
    with pytest.raises(ValueError, match="invalid parameter 'kk'"):
        est.set_params(kk=3)
    assert repr(est) == "HiLander(k=7, score='sim')"


def test_fit_predict_matches_cluster():
    x, y = blobs()
    est = hilander.HiLander()
    labels = est.fit_predict(x)
    np.testing.assert_array_equal(labels, hilander.cluster(x).labels)
    np.testing.assert_array_equal(est.labels_, labels)
    assert est.n_clusters_ == labels.max() + 1 and est.n_levels_ >= 1 and est.n_features_in_ == x.shape[1]
    assert isinstance(est.clustering_, hilander.Clustering)
    assert est.fit(x, y) is est  # y ignored


def test_with_model_object_and_path(trained, omniglot):
    model, path = trained
    x = omniglot["test"][0][:1000]
    a = hilander.HiLander(model=model, threads=1).fit_predict(x)
    b = hilander.HiLander(model=path, threads=1).fit_predict(x)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, hilander.cluster(x, model).labels)
