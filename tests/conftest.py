"""Shared data and the brute-force oracle of the estimator tests."""

import csv
import importlib.util
import os

import numpy as np
import pytest
from hypothesis import settings
from sklearn.datasets import make_classification

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
