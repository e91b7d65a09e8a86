"""Shared data and the brute-force oracle of the estimator tests."""

import csv
import importlib.util
import os

# One BLAS thread per test process, set before NumPy loads OpenBLAS: pytest-xdist
# runs one process per core, and two BLAS threads in each spin against the other
# process's (on 2 cores the digits fits of test_multiclass took 54 s instead of
# 6 s). A developer's own setting wins. Tests compare fits made under the same
# setting, and the regression fixture was recorded with one thread.
for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# And one OpenMP thread for scikit-learn's loops (HGB's crawled: a test of
# test_cli_habits took 6 minutes on a busy machine), set at run time rather than
# through OMP_NUM_THREADS, which pyarrow reads as its number of CPUs (the command
# line sizes its threaded reads by it).
if "OMP_NUM_THREADS" not in os.environ:
    threadpool_limits(limits=1, user_api="openmp")

# Keras reads KERAS_BACKEND once, at its first import: JAX (what the [keras] extra
# installs) unless the developer chose another backend.
os.environ.setdefault("KERAS_BACKEND", "jax")

# Tests of optional parts skip on a developer machine without their extra; in
# CI (CI=true) the [test] extra installs them all, so a missing one is an error.
OPTIONAL_MODULES = (
    "keras",
    "jax",
    "matplotlib",
    "skops",
    "distributed",
    "sphinx",
    "skl2onnx",
    "onnxruntime",
)

# CI replays the same hypothesis examples on every run (a failure there is a
# change's, not a new draw's); developers' runs keep drawing new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")


def pytest_sessionstart(session):
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    missing = [m for m in OPTIONAL_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise pytest.UsageError(
            f"CI=true, but {missing} are not installed: their tests would be "
            'skipped. Install the test extra: pip install -e ".[test]".'
        )


@pytest.fixture(scope="module")
def data():
    """600 samples, 25 % positive, 5 % flipped labels."""
    X, y = make_classification(
        n_samples=600, n_features=8, weights=[0.75], flip_y=0.05, random_state=0
    )
    return X, y


def oof_best_value(y, oof, value, feasible=lambda y_pred: True):
    """Brute force over every cut of the out-of-fold scores."""
    cuts = np.concatenate(([np.inf], np.unique(oof)))
    results = [
        value((oof >= t).astype(int)) for t in cuts if feasible((oof >= t).astype(int))
    ]
    return max(results)


def write_csv(path, header, rows):
    """A CSV file of ``header`` and ``rows`` at ``path``, for the command line."""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def onnx_session(model, X, dtype=np.float32, target_opset=None, **options):
    """An ONNX Runtime session of ``model`` converted by skl2onnx for rows of
    ``X`` in ``dtype`` (ZipMap off unless ``options`` say otherwise)."""
    import onnxruntime
    import skl2onnx

    onx = skl2onnx.to_onnx(
        model,
        X[:1].astype(dtype),
        options={"zipmap": False, **options},
        target_opset=target_opset,
    )
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def run_onnx(model, X, dtype=np.float32, target_opset=None, **options):
    """The graph's two outputs (unpacking fails if it has any other)."""
    session = onnx_session(model, X, dtype, target_opset, **options)
    labels, proba = session.run(None, {session.get_inputs()[0].name: X.astype(dtype)})
    return labels, proba


@pytest.fixture(scope="module")
def dask_processes():
    """A client of a ``LocalCluster`` of two single-thread worker processes on
    loopback, started for a test module and closed after it: every task is
    pickled to the workers, as on a real cluster."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def worker_addresses(client):
    """The addresses of the cluster's workers, asked of each worker.

    ``client.scheduler_info()`` is not used: when the scheduler's identity call
    fails under load it returns a cached record whose ``"workers"`` is empty,
    without an error (seen in CI on a busy machine)."""
    return set(client.run(lambda: None))


def assert_same_pick(dist, memory, weights=None):
    """A distributed pick is the in-memory one: the same threshold and
    counts (real weights' sums, and the score, to rounding)."""
    assert dist.threshold == memory.threshold
    counts = [dist.tp, dist.fp, dist.tn, dist.fn]
    expected = [memory.tp, memory.fp, memory.tn, memory.fn]
    if weights == "real":
        np.testing.assert_allclose(counts, expected, rtol=1e-10, atol=1e-9)
    else:
        assert counts == expected
    assert dist.score == pytest.approx(memory.score, rel=1e-10)
