"""Fold fits on a dask cluster through joblib give the serial result.

The cluster is a ``dask.distributed.LocalCluster`` started and closed here, with
``processes=False``: the scheduler and two single-threaded workers live in this
process and talk over dask's in-process transport, so no socket is opened (no
network, not even loopback) and it starts in about a second, while every fit
still goes through the scheduler and runs in a worker's thread. Process workers
would add little (joblib ships the same cloudpickled batches either way) and
cost several seconds of interpreter starts on a loaded 2-core machine.
"""

import joblib
import numpy as np
import pytest
from conftest import worker_addresses
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import PrecisionTarget

distributed = pytest.importorskip("distributed")


class WhereFitted(LogisticRegression):
    """A LogisticRegression that records which dask worker ran each of its fits.

    ``fits`` is shared by all clones; the workers are threads of this process,
    so appends from them land in the same list. Outside a worker the address is
    None (``get_worker`` raises ValueError there).
    """

    fits: list = []

    def fit(self, X, y, sample_weight=None):
        try:
            address = distributed.get_worker().address
        except ValueError:
            address = None
        type(self).fits.append(address)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,  # no HTTP server
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _fit_on_cluster(client, tuner, X, y, **fit_params):
    """Fit ``tuner`` under the dask joblib backend; the tasks the scheduler ran."""
    WhereFitted.fits.clear()
    with (
        distributed.get_task_stream(client) as stream,
        joblib.parallel_config(backend="dask"),
    ):
        tuner.fit(X, y, **fit_params)
    return stream.data


@pytest.mark.parametrize(
    "params",
    [
        {"objective": "f1"},
        {"objective": PrecisionTarget(0.8), "recalibrate": True},
    ],
    ids=["f1", "precision-recalibrated"],
)
def test_dask_backend_matches_serial_fit(client, data, params):
    X, y = data
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    serial = ThresholdTunedClassifier(WhereFitted(), cv=5, **params)
    WhereFitted.fits.clear()
    serial.fit(X, y, sample_weight=weight)
    assert WhereFitted.fits == [None] * 6  # the recorder sees the driver as such

    on_cluster = clone(serial)
    tasks = _fit_on_cluster(client, on_cluster, X, y, sample_weight=weight)

    assert on_cluster.threshold_ == serial.threshold_
    assert on_cluster.best_score_ == serial.best_score_
    np.testing.assert_array_equal(on_cluster.predict(X), serial.predict(X))
    np.testing.assert_array_equal(on_cluster.predict_proba(X), serial.predict_proba(X))
    if params.get("recalibrate"):
        for attribute in ("slope_below_", "slope_above_", "intercept_"):
            assert getattr(on_cluster.calibrator_, attribute) == getattr(
                serial.calibrator_, attribute
            )

    # The 5 fold fits and the refit all ran on this cluster's workers.
    workers = worker_addresses(client)
    assert len(WhereFitted.fits) == 6
    assert set(WhereFitted.fits) <= workers
    # The scheduler's own record agrees: joblib's batches of fits ran there.
    assert tasks
    assert {task["worker"] for task in tasks} <= workers
