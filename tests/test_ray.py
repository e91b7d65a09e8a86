"""Fold fits on a ray runtime through joblib give the serial result.

The runtime is a local ray node started and shut down here: 2 CPUs, no
dashboard, no usage report, and every server on loopback. ray binds the node's
address, which it takes from the route to the outside unless clusters are
disabled; the fixture disables them for the start-up, so the node's address is
127.0.0.1, and checks it. ray also enables token authentication by default and
would write a token to ~/.ray/auth_token; the fixture hands it one in
RAY_AUTH_TOKEN instead, so nothing is written in the home directory (ray keeps its
session logs in /tmp/ray).

The module takes about 25 s, mostly ray's start-up (about 10 s) and the pool of
two actors (new processes importing ray and scikit-learn) that each fit under the
ray backend starts: hence one case here where the dask test has two, and the slow
mark.

ray's joblib backend replaces the base class of joblib's ``PicklingPool`` (the
pool of joblib's multiprocessing backend) by ray's pool, for the whole process;
the fixture puts it back, so that later tests get joblib's own pool.
"""

import json
import os
import secrets
import uuid
from pathlib import Path

import joblib
import numpy as np
import pytest
from joblib.pool import PicklingPool
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import PrecisionTarget

ray = pytest.importorskip("ray")
ray_joblib = pytest.importorskip("ray.util.joblib")

pytestmark = pytest.mark.slow  # ray's start-up: see the module docstring

HERE = str(Path(__file__).parent)


class WhereFitted(LogisticRegression):
    """A LogisticRegression that records where each of its fits ran.

    Each fit writes one file in the folder ``record``: the process id, and the
    id of the ray actor running the fit (None outside one, in the driver).
    """

    def __init__(self, record=None, C=1.0):
        super().__init__(C=C)
        self.record = record

    def fit(self, X, y, sample_weight=None):
        where = {"pid": os.getpid(), "actor": ray.get_runtime_context().get_actor_id()}
        Path(self.record, uuid.uuid4().hex).write_text(json.dumps(where))
        return super().fit(X, y, sample_weight=sample_weight)


def _fits(record):
    return [json.loads(path.read_text()) for path in Path(record).iterdir()]


@pytest.fixture(scope="module")
def ray_runtime():
    pool_bases = PicklingPool.__bases__
    auth_mode = os.environ.get("RAY_AUTH_MODE")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ray._private.ray_constants, "ENABLE_RAY_CLUSTER", False)
        mp.delenv("RAY_ADDRESS", raising=False)  # start a node, join none
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        mp.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
        # The workers unpickle WhereFitted by reference: they import this module.
        mp.setenv(
            "PYTHONPATH",
            os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])),
        )
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            assert ray.util.get_node_ip_address() == "127.0.0.1"
            ray_joblib.register_ray()
            yield
        finally:
            ray.shutdown()
            PicklingPool.__bases__ = pool_bases
            if auth_mode is None:  # ray.init set it for its child processes
                os.environ.pop("RAY_AUTH_MODE", None)


def test_ray_backend_matches_serial_fit(ray_runtime, tmp_path, data):
    """Same threshold, score, predictions and calibrator; the fits ran in ray actors."""
    X, y = data
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    (tmp_path / "serial").mkdir()
    (tmp_path / "ray").mkdir()
    serial = ThresholdTunedClassifier(
        WhereFitted(record=tmp_path / "serial"),
        objective=PrecisionTarget(0.8),
        recalibrate=True,
        cv=5,
    )
    serial.fit(X, y, sample_weight=weight)
    driver = {"pid": os.getpid(), "actor": None}
    assert _fits(tmp_path / "serial") == [driver] * 6  # the recorder sees the driver

    on_ray = clone(serial).set_params(estimator__record=tmp_path / "ray")
    # n_jobs=-1: every CPU of the ray runtime. ray's backend defaults to 1 job,
    # which joblib runs in the driver (see the test below).
    with joblib.parallel_config(backend="ray", n_jobs=-1):
        on_ray.fit(X, y, sample_weight=weight)

    assert on_ray.threshold_ == serial.threshold_
    assert on_ray.best_score_ == serial.best_score_
    np.testing.assert_array_equal(on_ray.predict(X), serial.predict(X))
    np.testing.assert_array_equal(on_ray.predict_proba(X), serial.predict_proba(X))
    for attribute in ("slope_below_", "slope_above_", "intercept_"):
        assert getattr(on_ray.calibrator_, attribute) == getattr(
            serial.calibrator_, attribute
        )

    # The 5 fold fits and the refit all ran in ray actors, in other processes.
    fits = _fits(tmp_path / "ray")
    assert len(fits) == 6
    assert all(fit["actor"] is not None for fit in fits)
    assert os.getpid() not in {fit["pid"] for fit in fits}


def test_ray_backend_without_n_jobs_runs_in_the_driver(ray_runtime, tmp_path, data):
    """joblib gives ray's backend 1 job by default, and runs 1 job in the driver.

    Unlike dask's backend, which defaults to every worker: with ray, set n_jobs
    (on the tuner or in ``parallel_config``) to use the cluster.
    """
    X, y = data
    tuner = ThresholdTunedClassifier(WhereFitted(record=tmp_path), cv=5)
    with joblib.parallel_config(backend="ray"):
        tuner.fit(X, y)
    assert _fits(tmp_path) == [{"pid": os.getpid(), "actor": None}] * 6
