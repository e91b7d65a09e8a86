"""The doctests of this subpackage need the [keras] extra: skip them without it."""

import importlib.util
import os

import pytest

# Keras reads KERAS_BACKEND once, at its first import; the extra installs JAX.
os.environ.setdefault("KERAS_BACKEND", "jax")


def pytest_collection_modifyitems(config, items):
    if importlib.util.find_spec("keras") is not None:
        return
    skip = pytest.mark.skip(
        reason='Keras is not installed: pip install "threshold-estimators[keras]" '
        "(the [test] extra includes it) to run these doctests"
    )
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(skip)
