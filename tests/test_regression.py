"""Behaviour preservation: the current package reproduces recorded outputs bit for bit.

``tests/regression/configurations.py`` defines a few hundred small fits of
``ThresholdTunedClassifier`` (every objective kind x every target kind, with
estimators, response methods, cv kinds, sample weights, recalibration and
stored cv results rotating over them, plus configurations that raise at fit).
``tests/regression/fixture.pkl.gz`` holds what a frozen version of the package
produced for each: predictions and probabilities on held-out rows, the fitted
attributes, the calibrators' parameters, ``cv_results_``, ``score``, the
warnings raised, or the error raised at fit. This module refits every
configuration with the current package and requires the same outputs: same
keys, arrays of the same dtype, shape and values (NaN equal to NaN, and -0.0
distinct from 0.0), the same error class and message, the same warnings.

It guards refactorings that must not change behaviour. A failure names the
configuration and the key that differs, with a few differing values.

Regenerate the fixture only when a behaviour change is deliberate, and say so in
the commit message (which outputs change, and why). From the repository root,
with the intended version checked out in a separate worktree::

    git worktree add /tmp/regress_base <commit>
    PYTHONPATH=/tmp/regress_base python tests/regression/make_fixture.py

(check the path it prints: the package must be imported from the worktree).
The outputs depend on scikit-learn, NumPy and SciPy to the last bit (e.g. the
solvers of LogisticRegression): after upgrading them, regenerate the fixture
from the unchanged package and commit that on its own.

They also depend on the CPU: NumPy's SIMD kernels (``exp``, ``log``) round
differently with and without AVX-512, and solvers carry those last bits into
every fitted number. ``fixture_avx512.pkl.gz`` records the same package
(``cc14c06``) on an AVX-512 machine (AMD EPYC; NumPy 2.4.6, SciPy 1.17.1,
scikit-learn 1.9.1), where ``fixture.pkl.gz`` differs in 226 of 390
configurations. Each configuration must reproduce one of the recordings bit for
bit. A deliberate change regenerates the recording of the machine at hand (copy
``fixture.pkl.gz`` to ``fixture_avx512.pkl.gz`` on an AVX-512 machine) and
deletes the recordings it cannot regenerate.
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

REGRESSION = Path(__file__).resolve().parent / "regression"
FIXTURE = REGRESSION / "fixture.pkl.gz"
REGENERATE = (
    "if the change is deliberate, regenerate the fixture (see this module's "
    "docstring) and say so in the commit"
)


def _load_configurations():
    name = "threshold_estimators_regression_configurations"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REGRESSION / "configurations.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


configurations_module = _load_configurations()
CONFIGURATIONS = {
    configurations_module.config_id(config): config
    for config in configurations_module.configurations()
}


# Every recording of the package's outputs (see the docstring), the first
# the one differences are reported against.
RECORDINGS = [
    path
    for path in (FIXTURE, REGRESSION / "fixture_avx512.pkl.gz")
    if path == FIXTURE or path.exists()
]


@cache
def recorded(path=FIXTURE):
    with gzip.open(path, "rb") as stream:
        return pickle.load(stream)


# ----------------------------------------------------------------------------
# Recursive comparison.

_SHOWN = 5  # differing values shown per key


def _short(value, width=120) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _same_floats(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Elementwise: equal, sign bit included (-0.0 is not 0.0); NaN equals NaN."""
    both_nan = np.isnan(expected) & np.isnan(actual)
    with np.errstate(invalid="ignore"):
        equal = (expected == actual) & (np.signbit(expected) == np.signbit(actual))
    return equal | both_nan


def _same_elements(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    kind = expected.dtype.kind
    if kind == "f":
        return _same_floats(expected, actual)
    if kind == "c":
        return _same_floats(expected.real, actual.real) & _same_floats(
            expected.imag, actual.imag
        )
    if kind == "O":
        flat = [
            not differences(e, a, "")
            for e, a in zip(expected.ravel(), actual.ravel(), strict=True)
        ]
        return np.array(flat, dtype=bool).reshape(expected.shape)
    return np.asarray(expected == actual, dtype=bool)


def _array_differences(expected, actual, path) -> list[str]:
    if expected.dtype != actual.dtype:
        return [f"{path}: dtype {expected.dtype}, now {actual.dtype}"]
    if expected.shape != actual.shape:
        return [f"{path}: shape {expected.shape}, now {actual.shape}"]
    same = _same_elements(expected, actual)
    if same.all():
        return []
    where = np.argwhere(~same)
    shown = "; ".join(
        f"[{', '.join(map(str, index))}] {_short(expected[tuple(index)], 40)}"
        f" -> {_short(actual[tuple(index)], 40)}"
        for index in where[:_SHOWN]
    )
    return [
        f"{path}: {len(where)} of {expected.size} values differ "
        f"(expected -> now): {shown}"
    ]


def differences(expected, actual, path="") -> list[str]:
    """Where ``actual`` differs from ``expected``: one line per difference.

    Handles dicts, lists, tuples, None, ndarrays, numpy scalars, floats, ints,
    bools and strings; the types must match exactly (``np.float64`` is not
    ``float``, ``np.str_`` is not ``str``).
    """
    where = path or "<top>"
    if type(expected) is not type(actual):
        return [
            f"{where}: type {type(expected).__name__} {_short(expected, 60)}, now "
            f"{type(actual).__name__} {_short(actual, 60)}"
        ]
    if isinstance(expected, dict):
        found = []
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing:
            found.append(f"{where}: keys missing now: {missing}")
        if extra:
            found.append(f"{where}: unexpected new keys: {extra}")
        for key in expected:
            if key in actual:
                found += differences(expected[key], actual[key], f"{path}[{key!r}]")
        return found
    if isinstance(expected, (list, tuple)):
        if len(expected) != len(actual):
            return [
                f"{where}: length {len(expected)}, now {len(actual)}: "
                f"{_short(expected)} -> {_short(actual)}"
            ]
        found = []
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found += differences(e, a, f"{path}[{index}]")
        return found
    if isinstance(expected, np.ndarray):
        return _array_differences(expected, actual, where)
    if expected is None:
        return []
    if isinstance(expected, (float, np.floating, complex, np.complexfloating)):
        same = _same_elements(np.asarray(expected), np.asarray(actual))
    else:
        same = expected == actual
    if isinstance(same, (bool, np.bool_)) and same:
        return []
    return [f"{where}: {_short(expected)} -> {_short(actual)}"]


# ----------------------------------------------------------------------------
# The tests.


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.name)
def test_fixture_covers_exactly_the_configurations(path):
    ids = set(CONFIGURATIONS)
    stored = set(recorded(path))
    missing, extra = sorted(ids - stored), sorted(stored - ids)
    assert not missing and not extra, (
        f"{len(missing)} configurations have no recorded outputs "
        f"(first: {missing[:3]}), {len(extra)} recorded outputs have no "
        f"configuration (first: {extra[:3]}); {REGENERATE}."
    )


@pytest.mark.parametrize("config_id", list(CONFIGURATIONS))
def test_outputs_are_unchanged(config_id):
    expected = recorded().get(config_id)
    if expected is None:
        pytest.fail(f"{config_id}: no recorded outputs; {REGENERATE}.")
    actual = configurations_module.outputs(CONFIGURATIONS[config_id])
    found = differences(expected, actual)
    if found and any(
        not differences(recorded(path)[config_id], actual) for path in RECORDINGS[1:]
    ):
        found = []  # this CPU's recording, bit for bit
    if found:
        shown = "\n  ".join(found[:20])
        more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
        pytest.fail(
            f"{config_id}: {len(found)} outputs differ from the fixture:\n  "
            f"{shown}{more}\n({REGENERATE}.)",
            pytrace=False,
        )


def test_comparer_reports_each_kind_of_difference():
    """The comparison itself: equal values pass, every kind of change is named."""
    nan = np.array([1.0, np.nan, -0.0])
    assert (
        differences({"a": nan, "b": [None, "x"]}, {"a": nan.copy(), "b": [None, "x"]})
        == []
    )
    assert differences(np.float64(np.nan), np.float64(np.nan)) == []
    changes = [
        ({"a": nan}, {"a": np.array([1.0, np.nan, 0.0])}, "['a']: 1 of 3 values"),
        ({"a": nan}, {"a": nan.astype(np.float32)}, "dtype float64, now float32"),
        ({"a": nan}, {"a": nan[:2]}, "shape (3,), now (2,)"),
        ({"a": 1}, {"b": 1}, "keys missing now: ['a']"),
        ([1, 2], [1, 2, 3], "length 2, now 3"),
        ((1.0,), (np.float64(1.0),), "type float"),
        ({"e": ("ValueError", "x")}, {"e": ("ValueError", "y")}, "['e'][1]: 'x'"),
        (np.array(["a", "b"]), np.array(["a", "c"]), "1 of 2 values"),
        (None, 0.0, "type NoneType"),
        (0.5, 0.5 + 2**-53, "0.5 -> 0.5000000000000001"),
    ]
    for expected, actual, message in changes:
        found = differences(expected, actual)
        assert found and message in found[0], (expected, actual, found)
