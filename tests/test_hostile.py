"""Hostile inputs: each gets the oracle's answer or a clear error, never a silent one.

The first table lists inputs that must raise, with the exception type and the
words the message must hold (the rule broken and what was received). The rest
checks answers against independent oracles: brute force over every cut, the
metrics of :mod:`sklearn.metrics`, exact rational arithmetic, and properties that
must hold for a whole class of input (every score dtype, every scale of weights
and costs, every order of ``classes_``).
"""

import os
import re
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    make_scorer,
    matthews_corrcoef,
    recall_score,
)

from threshold_estimators import ThresholdTunedClassifier, confusion_curve
from threshold_estimators._search import cut_point
from threshold_estimators._selection import run_search
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FBeta,
    PrecisionTarget,
    RecallTarget,
)

X60, Y60 = make_classification(n_samples=60, random_state=0)

# The dtype and scale properties run 10,000 examples each; HOSTILE_EXAMPLES=300
# makes a quick local run.
PROPERTY_EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", 10_000))


class ScoreTable(ClassifierMixin, BaseEstimator):
    """A prefit model whose scores are given: row ``i`` of X is ``[i]``.

    It stands for any model whose ``predict_proba`` returns ``dtype`` (float32
    from XGBoost or a model fitted on float32 X, float16, integer votes).
    """

    def __init__(self, scores=None, classes=(0, 1), dtype="float64"):
        self.scores = scores
        self.classes = classes
        self.dtype = dtype

    def fit(self, X, y):
        self.classes_ = np.asarray(self.classes)
        return self

    def predict_proba(self, X):
        rows = np.asarray(X)[:, 0].astype(int)
        scores = np.asarray(self.scores)[rows]
        if scores.ndim == 2:  # one column per class
            return scores.astype(self.dtype)
        positive = scores.astype(self.dtype)
        return np.column_stack([(1 - positive).astype(self.dtype), positive])


def _table(scores, dtype="float64", classes=(0, 1)):
    return ScoreTable(scores, classes=classes, dtype=dtype).fit(None, None)


class ReversedClasses(ClassifierMixin, BaseEstimator):
    """A model reporting its classes in reverse order, columns in that order."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None):
        self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.estimator_.classes_[::-1]
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)[:, ::-1]

    def predict_log_proba(self, X):
        return self.estimator_.predict_log_proba(X)[:, ::-1]

    def decision_function(self, X):
        scores = self.estimator_.decision_function(X)
        return -scores if scores.ndim == 1 else scores[:, ::-1]


class WideProba(ClassifierMixin, BaseEstimator):
    """A model whose predict_proba has one column more than its classes."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_) + 1), 1 / 3)


def tuner(**params):
    return ThresholdTunedClassifier(LogisticRegression(), **{"cv": 3, **params})


def _fit(**params):
    X, y = params.pop("X", X60), params.pop("y", Y60)
    fit_params = params.pop("fit_params", {})
    return lambda: tuner(**params).fit(X, y, **fit_params)


def _singleton_class():
    y = Y60.copy()
    y[5] = 2
    return y


def _one_positive():
    y = np.zeros(60, dtype=int)
    y[0] = 1
    return y


MASK = np.arange(60) < 40

# (case, call, exception type, regex the message must match)
MUST_RAISE = [
    ("zero rows", _fit(X=X60[:0], y=Y60[:0]), ValueError, r"got 0 samples"),
    (
        "labels mixing int and str",
        _fit(y=np.array([1, "a"] * 30, dtype=object), pos_label="a"),
        ValueError,
        r"mixes labels of different types \(number, str\)",
    ),
    (
        "2-D (multilabel) y",
        _fit(y=np.column_stack([Y60, 1 - Y60])),
        ValueError,
        r"'multilabel-indicator' target of shape \(60, 2\)",
    ),
    (
        "a class with fewer samples than folds",
        _fit(y=_one_positive()),
        ValueError,
        r"trains on no sample of class\(es\) \[1\].*at least two samples",
    ),
    (
        "a singleton class missing from some training folds (one class tuned)",
        _fit(y=_singleton_class(), pos_label=1),
        ValueError,
        r"trains on no sample of class\(es\) \[2\]",
    ),
    (
        "a singleton class missing from some training folds (every class)",
        _fit(y=_singleton_class()),
        ValueError,
        r"trains on no sample of class\(es\) \[2\]",
    ),
    (
        "cv indices out of range",
        _fit(cv=[(np.arange(50), np.arange(50, 70))]),
        ValueError,
        r"test set holds indices from 50 to 69; they must lie in \[0, 60\)",
    ),
    (
        "cv negative indices",
        _fit(cv=[(np.arange(-10, 40), np.arange(40, 60))]),
        ValueError,
        r"train set holds indices from -10 to 39",
    ),
    (
        "cv boolean mask of the wrong length",
        _fit(cv=[(MASK[:50], ~MASK[:50])]),
        ValueError,
        r"boolean mask of shape \(50,\).*\(60,\)",
    ),
    (
        "cv float indices",
        _fit(cv=[(np.arange(40.0), np.arange(40.0, 60.0))]),
        ValueError,
        r"integer indices.*got dtype float64",
    ),
    (
        "cv empty test set",
        _fit(cv=[(np.arange(60), np.arange(0))]),
        ValueError,
        r"test set is empty",
    ),
    (
        "weights whose sum overflows",
        _fit(fit_params={"sample_weight": np.full(60, 1e307)}),
        ValueError,
        r"sample_weight sums to infinity",
    ),
    (
        "NaN weights",
        _fit(fit_params={"sample_weight": np.r_[np.nan, np.ones(59)]}),
        ValueError,
        r"sample_weight contains NaN",
    ),
    (
        "ragged cost matrix",
        _fit(objective=CostMatrix([[0, 1], [1]])),
        ValueError,
        r"equal-length rows.*got \[\[0, 1\], \[1\]\]",
    ),
    (
        "cost matrix with inf",
        _fit(objective=CostMatrix([[0, np.inf], [1, 0]])),
        ValueError,
        r"entries must be finite",
    ),
    (
        "confidence below 0.5",
        _fit(objective=PrecisionTarget(0.8, confidence=0.1)),
        ValueError,
        r"'confidence' parameter.*\[0.5, 1.0\).*Got 0.1",
    ),
    (
        "callable objective with a wrong signature",
        _fit(objective=lambda y_pred: 1.0),
        TypeError,
        r"callable as scorer\(estimator, X, y\).*make_scorer",
    ),
    (
        "callable objective returning NaN",
        _fit(objective=lambda est, X, y: float("nan")),
        ValueError,
        r"returned no finite value at any candidate",
    ),
    (
        "callable objective returning -inf",
        _fit(objective=lambda est, X, y: -np.inf),
        ValueError,
        r"no finite value at any candidate threshold \(values from -inf to -inf",
    ),
    (
        "callable objective returning a string",
        _fit(objective=lambda est, X, y: "good"),
        ValueError,
        r"must return one number per call; it returned str 'good'",
    ),
    (
        "callable objective returning an array",
        _fit(objective=lambda est, X, y: np.ones(2)),
        ValueError,
        r"must return one number per call; it returned ndarray",
    ),
    (
        "callable objective returning None",
        _fit(objective=lambda est, X, y: None),
        ValueError,
        r"it returned NoneType None",
    ),
    (
        "predict_proba with more columns than classes",
        lambda: ThresholdTunedClassifier(WideProba(), cv=3).fit(X60, Y60),
        ValueError,
        r"returned shape \(\d+, 3\) for the 2 classes",
    ),
    (
        "predict_proba with too few rows",
        lambda: ThresholdTunedClassifier(_ShortProba(), cv=3).fit(X60, Y60),
        ValueError,
        r"returned \d+ rows for \d+ samples",
    ),
    (
        "cv yielding triples",
        _fit(cv=[(np.arange(40), np.arange(40, 60), None)]),
        ValueError,
        r"\(train, test\) pairs of index arrays; split 0 is",
    ),
    (
        "prefit model knowing fewer classes than y",
        lambda: ThresholdTunedClassifier(
            _table(np.linspace(0, 1, 60), classes=(0, 2)), cv="prefit", pos_label=2
        ).fit(np.arange(60)[:, None], np.arange(60) % 3),
        ValueError,
        r"knows the classes \[0, 2\], but y holds \[0, 1, 2\]",
    ),
    (
        "prefit model with string classes, integer y",
        lambda: ThresholdTunedClassifier(
            _table(np.linspace(0, 1, 60), classes=("0", "1")), cv="prefit"
        ).fit(np.arange(60)[:, None], np.arange(60) % 2),
        ValueError,
        r"knows the classes \['0', '1'\], but y holds \[0, 1\].*same type",
    ),
    (
        "a model without classes_",
        lambda: ThresholdTunedClassifier(_NoClasses().fit(X60, Y60), cv="prefit").fit(
            X60, Y60
        ),
        ValueError,
        r"has no classes_ attribute",
    ),
    (
        "boolean decision scores",
        lambda: ThresholdTunedClassifier(
            _BoolDecision(), response_method="decision_function", cv=3
        ).fit(X60, Y60),
        ValueError,
        r"decision_function returned scores of dtype bool; a threshold needs real",
    ),
    (
        "costs below the smallest normal float",
        _fit(objective=CostMatrix(np.array([[0, 1], [5, 0]]) * 5e-324)),
        ValueError,
        r"below the smallest normal float.*only their ratios matter",
    ),
    (
        "confusion_curve with complex scores",
        lambda: confusion_curve([True, False], [0.2 + 1j, 0.5]),
        ValueError,
        r"y_score must be an array of real numbers; got dtype complex128",
    ),
    (
        "confusion_curve with masked scores",
        lambda: confusion_curve(
            [True, False], np.ma.masked_array([0.2, 0.5], mask=[True, False])
        ),
        ValueError,
        r"y_score has masked entries",
    ),
    (
        "confusion_curve with NaN scores",
        lambda: confusion_curve([True, False], [np.nan, 0.5]),
        ValueError,
        r"finite scores; y_score holds 1 NaN and 0 infinite",
    ),
    (
        "confusion_curve with inf scores",
        lambda: confusion_curve([True, False], [np.inf, 0.5]),
        ValueError,
        r"0 NaN and 1 infinite",
    ),
    (
        "confusion_curve with negative weights",
        lambda: confusion_curve([True, False], [0.2, 0.5], [1.0, -1.0]),
        ValueError,
        r"finite and non-negative.*1 negative",
    ),
    (
        "confusion_curve with NaN weights",
        lambda: confusion_curve([True, False], [0.2, 0.5], [np.nan, 1.0]),
        ValueError,
        r"1 NaN",
    ),
    (
        "confusion_curve with string scores",
        lambda: confusion_curve([True, False], ["a", "b"]),
        ValueError,
        r"y_score must be an array of real numbers; got dtype <U1",
    ),
]


class _NoClasses(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


class _BoolDecision(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X):
        return np.asarray(X)[:, 0] > 0


class _ShortProba(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((max(len(X) - 1, 0), 2), 0.5)


@pytest.mark.parametrize(
    "call, error, words",
    [case[1:] for case in MUST_RAISE],
    ids=[case[0] for case in MUST_RAISE],
)
def test_hostile_input_gets_a_clear_error(call, error, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as raised:
            call()
    assert re.search(words, str(raised.value), flags=re.S), str(raised.value)


# --- float16/32/64 and integer scores: predict reproduces the search ---------

DTYPES = ["float16", "float32", "float64"]


def _brute_force_f1(y, scores):
    """The best F1 over every cut of ``scores``, with sklearn's f1_score."""
    cuts = np.concatenate(([np.inf], np.unique(scores)))
    return max(f1_score(y, scores >= cut, zero_division=0.0) for cut in cuts)


@st.composite
def dense_scores(draw):
    """Scores of a dtype: adjacent values packed in a narrow band, or spread.

    The arrays come from a drawn seed (one draw, not one per element): ten
    thousand examples then cost seconds, not minutes.
    """
    dtype = draw(st.sampled_from(DTYPES))
    n = draw(st.integers(4, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        # Consecutive values of the dtype around a centre: float64 midpoints of
        # two of them round back onto one in the dtype.
        centre = np.asarray(draw(st.floats(0.01, 0.99)), dtype=dtype)
        scores = np.array([centre] * n, dtype=dtype)
        for _ in range(draw(st.integers(0, 6))):
            step = rng.random(n) < 0.5
            scores[step] = np.nextafter(scores[step], np.asarray(1, dtype=dtype))
    else:
        scores = rng.random(n).astype(dtype)
    y = (rng.random(n) < draw(st.floats(0.05, 0.95))).astype(int)
    y[:2] = [0, 1]
    return scores, y


def _search_and_cut(objective, y, scores, sample_weight=None):
    """The search on ``scores`` (of any dtype) and the cut it places."""
    curve, _, best = run_search(
        objective,
        y,
        np.asarray(scores, dtype=float),
        sample_weight,
        pos_label=1,
        classes=np.array([0, 1]),
    )
    return curve, best, cut_point(curve.thresholds, best, np.asarray(scores).dtype)


@st.composite
def any_scores(draw):
    """Float scores as :func:`dense_scores`, or integer ones (votes, counts)."""
    dtype = draw(st.sampled_from(["int8", "uint8", "int64", "float"]))
    if dtype == "float":
        return draw(dense_scores())
    n = draw(st.integers(4, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    info = np.iinfo(dtype)
    low, high = max(info.min, -(2**62)), min(info.max, 2**62)
    span = draw(st.sampled_from([3, 20, high]))
    scores = rng.integers(max(low, -span), min(high, span), n, endpoint=True)
    y = (rng.random(n) < 0.5).astype(int)
    y[:2] = [0, 1]
    return scores.astype(dtype), y


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(data=any_scores(), objective=st.sampled_from([F1(), FBeta(0.5)]))
def test_the_cut_keeps_the_searched_counts_in_every_score_dtype(data, objective):
    scores, y = data
    curve, best, cut = _search_and_cut(objective, y, scores)
    # Compared in the scores' own dtype (numpy rounds the cut to it), as a
    # user's ``proba >= threshold_`` does, and in float64, as predict does.
    for called in (scores >= cut, scores.astype(float) >= cut):
        assert np.count_nonzero(called & (y == 1)) == curve.tp[best]
        assert np.count_nonzero(called & (y == 0)) == curve.fp[best]


@settings(max_examples=600, deadline=None)
@given(data=dense_scores())
def test_predict_reproduces_the_search_for_every_score_dtype(data):
    scores, y = data
    assume(np.ptp(scores) > 0)
    rows = np.arange(len(y))[:, None]
    model = ThresholdTunedClassifier(_table(scores, dtype=scores.dtype), cv="prefit")
    predicted = model.fit(rows, y).predict(rows)
    # The F1 of what predict does equals what the search reported, and the
    # best over every cut (sklearn's f1_score on each).
    assert f1_score(y, predicted) == model.best_score_
    assert model.best_score_ == _brute_force_f1(y, scores.astype(float))
    # The user's own comparison, in the scores' dtype, agrees with predict.
    np.testing.assert_array_equal(scores >= model.threshold_, predicted == 1)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=dense_scores())
def test_recalibrated_predict_agrees_for_every_score_dtype(data):
    scores, y = data
    assume(np.ptp(scores) > 0)
    rows = np.arange(len(y))[:, None]
    model = ThresholdTunedClassifier(
        _table(scores, dtype=scores.dtype), cv="prefit", recalibrate=True
    )
    predicted = model.fit(rows, y).predict(rows)
    assert f1_score(y, predicted) == model.best_score_
    proba = model.predict_proba(rows)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], predicted)
    np.testing.assert_array_equal(proba[:, 1] >= 0.5, predicted == 1)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_a_midpoint_that_rounds_below_the_next_score(dtype):
    # Two adjacent values of the dtype: their float64 midpoint rounds (to even)
    # onto the lower one in the dtype, which used to call it positive.
    low = np.asarray(0.5, dtype=dtype)
    high = np.nextafter(low, np.asarray(1, dtype=dtype))
    scores = np.array([low, high, low, high], dtype=dtype)
    y = np.array([0, 1, 0, 1])
    rows = np.arange(4)[:, None]
    model = ThresholdTunedClassifier(_table(scores, dtype=dtype), cv="prefit").fit(
        rows, y
    )
    np.testing.assert_array_equal(model.predict(rows), y)
    np.testing.assert_array_equal(scores >= model.threshold_, y == 1)
    assert model.best_score_ == 1.0


def test_float32_model_predicts_what_was_searched():
    # A real model fitted on float32 X returns float32 probabilities.
    X, y = make_classification(n_samples=3_000, random_state=1)
    X = X.astype(np.float32)
    frozen = LogisticRegression().fit(X[:1_000], y[:1_000])
    assert frozen.predict_proba(X[:2]).dtype == np.float32
    for recalibrate in (False, True):
        model = ThresholdTunedClassifier(
            frozen, cv="prefit", recalibrate=recalibrate
        ).fit(X[1_000:], y[1_000:])
        predicted = model.predict(X[1_000:])
        assert f1_score(y[1_000:], predicted) == model.best_score_
        if recalibrate:
            proba = model.predict_proba(X[1_000:])
            np.testing.assert_array_equal(proba.argmax(axis=1), predicted)


def test_integer_decision_scores():
    class Votes(ScoreTable):
        def decision_function(self, X):
            return np.asarray(self.scores)[np.asarray(X)[:, 0].astype(int)]

    rng = np.random.default_rng(0)
    votes = rng.integers(-5, 6, 80)
    y = (votes + rng.integers(-3, 4, 80) > 0).astype(int)
    rows = np.arange(80)[:, None]
    model = ThresholdTunedClassifier(
        Votes(votes).fit(None, None), cv="prefit", response_method="decision_function"
    ).fit(rows, y)
    assert f1_score(y, model.predict(rows)) == model.best_score_
    assert model.best_score_ == _brute_force_f1(y, votes.astype(float))


# --- scale: weights and costs times any positive factor -----------------------

FACTORS = st.sampled_from(
    [1e-300, 1e-200, 1e-12, 1 / 3, 0.1, 3.0, 7.3, 1e12, 1e200, 2.0**1000]
) | st.floats(1e-5, 1e5)


@st.composite
def weighted_scores(draw):
    """Scores on a coarse grid (many ties), labels and integer weights."""
    n = draw(st.integers(6, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scores = rng.choice(np.linspace(0.05, 0.95, draw(st.integers(2, 19))), n)
    scores[:2] = [0.05, 0.95]  # at least two distinct scores
    y = (rng.random(n) < draw(st.floats(0.05, 0.95))).astype(int)
    y[:2] = [0, 1]
    weight = rng.integers(1, draw(st.integers(2, 10)), n).astype(float)
    return scores, y, weight


SCALE_OBJECTIVES = [
    F1(),
    FBeta(2.0),
    PrecisionTarget(0.6, on_infeasible="warn"),
    RecallTarget(0.7),
    PrecisionTarget(0.6, confidence=0.8, on_infeasible="warn"),
    CostMatrix([[0, 1], [4, 0]]),
    CostMatrix([[-1.5, 2.25], [7.1, 0.3]]),
]


@pytest.mark.parametrize("factor", [1e-12, 1 / 3, 0.1, 7.3, 1e12])
def test_an_exact_tie_of_f_beta_is_one_whatever_the_weights_scale(factor):
    """Found by CI's replay of the property below: two cuts tie exactly in
    F2 (1 of 2 positives over 16 calls, 2 of 2 over 40); scaled, the weights'
    running sums round (15 x 1e-12 is not 1.5e-11), and the tie-break's cross
    products, then compared within their own rounding only, chose the other
    cut. They now allow for the sums' rounding, as the scores do."""
    y = np.zeros(40, dtype=int)
    y[[1, 4]] = 1
    scores = np.full(40, 0.05)
    scores[[1, 3, 6, 7, 8, 9, 12, 18, 20, 22, 28, 29, 30, 35, 37, 39]] = 0.95
    weight = np.ones(40)
    _, best, cut = _search_and_cut(FBeta(2.0), y, scores, weight)
    assert (best, cut) == (1, 0.5)  # the higher of the tied cuts
    _, best_scaled, cut_scaled = _search_and_cut(FBeta(2.0), y, scores, weight * factor)
    assert (best_scaled, cut_scaled) == (best, cut)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    data=weighted_scores(),
    factor=FACTORS,
    objective=st.sampled_from(SCALE_OBJECTIVES),
)
def test_the_search_does_not_depend_on_the_scale_of_weights(data, factor, objective):
    scores, y, weight = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an infeasible target warns
        _, best, cut = _search_and_cut(objective, y, scores, weight)
        _, best_scaled, cut_scaled = _search_and_cut(
            objective, y, scores, weight * factor
        )
    assert (best_scaled, cut_scaled) == (best, cut)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    data=weighted_scores(),
    factor=FACTORS,
    right=st.lists(st.integers(-5, 5), min_size=2, max_size=2),
    extra=st.lists(st.integers(1, 20), min_size=2, max_size=2),
)
def test_the_search_does_not_depend_on_the_scale_of_costs(data, factor, right, extra):
    scores, y, _ = data
    # A wrong decision costs more than the right one, on each true class.
    c_tn, c_tp = right
    c_fp, c_fn = c_tn + extra[0], c_tp + extra[1]
    matrix = np.array([[c_tn, c_fp], [c_fn, c_tp]], dtype=float)
    _, best, cut = _search_and_cut(CostMatrix(matrix), y, scores)
    _, best_scaled, cut_scaled = _search_and_cut(CostMatrix(matrix * factor), y, scores)
    assert (best_scaled, cut_scaled) == (best, cut)


@settings(max_examples=500, deadline=None)
@given(
    data=weighted_scores(),
    factor=FACTORS,
    objective=st.sampled_from(SCALE_OBJECTIVES),
)
def test_threshold_does_not_depend_on_the_scale_of_weights(data, factor, objective):
    scores, y, weight = data
    rows = np.arange(len(y))[:, None]

    def threshold(sample_weight):
        model = ThresholdTunedClassifier(
            _table(scores), cv="prefit", objective=objective
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.fit(rows, y, sample_weight=sample_weight).threshold_

    assert threshold(weight * factor) == threshold(weight)


def test_costs_near_the_float_maximum():
    scores = np.linspace(0.05, 0.95, 40)
    y = (np.random.default_rng(0).uniform(size=40) < scores).astype(int)
    rows = np.arange(40)[:, None]

    def fitted(matrix):
        model = ThresholdTunedClassifier(
            _table(scores), cv="prefit", objective=CostMatrix(matrix)
        )
        return model.fit(rows, y)

    huge, unit = fitted([[0, 1e308], [1e308, 0]]), fitted([[0, 1], [1, 0]])
    assert huge.threshold_ == unit.threshold_
    assert np.isfinite(huge.best_score_)
    assert huge.best_score_ == pytest.approx(unit.best_score_ * 1e308, rel=1e-12)
    assert huge.predict(rows).any()


def test_thresholds_with_bounds_and_recalibration_ignore_the_weights_scale(data):
    # A frozen model: the inner estimator's own fit may depend on the scale of
    # the weights (a regularized logistic regression does); the tuner must not.
    X, y = data
    frozen = FrozenEstimator(LogisticRegression().fit(X[:200], y[:200]))
    weight = np.random.default_rng(0).uniform(0.5, 2, len(y) - 200)

    def fitted(factor):
        return ThresholdTunedClassifier(
            frozen,
            objective=PrecisionTarget(0.7, confidence=0.9),
            recalibrate=True,
        ).fit(X[200:], y[200:], sample_weight=weight * factor)

    reference = fitted(1.0)
    for factor in (1e6, 1e-250, 1 / weight.sum()):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert fitted(factor).threshold_ == reference.threshold_
        # The recalibrator reads weights as counts: far below counts it warns.
        warned = any("reads sample_weight as counts" in str(w.message) for w in caught)
        assert warned == (factor < 1)


def test_confidence_bound_counts_effective_samples():
    # Weights of one unit or of one thousandth are the same evidence: the bound
    # reads Kish's effective sample size, not the sum of the weights.
    objective = PrecisionTarget(0.5, confidence=0.9)
    tp, fp = np.array([9.0]), np.array([1.0])
    plain_bound = objective.lower_bound(tp, fp, 0, 0)
    scaled = objective.effective_counts(
        (tp / 1000, fp / 1000, np.zeros(1), np.zeros(1)),
        (tp / 1e6, fp / 1e6, np.zeros(1), np.zeros(1)),
    )
    np.testing.assert_allclose(objective.lower_bound(*scaled), plain_bound)


def test_confidence_one_half_is_the_median_bound():
    # At confidence 0.5 the Clopper-Pearson bound is the median of the
    # posterior-like beta: never above the estimate (it was, below 0.5).
    objective = PrecisionTarget(0.5, confidence=0.5)
    tp, fp = np.arange(1, 30.0), np.full(29, 5.0)
    assert np.all(objective.lower_bound(tp, fp, 0, 0) <= tp / (tp + fp))


# --- FBeta with extreme beta, against exact rational arithmetic ---------------


@pytest.mark.parametrize(
    "beta", [1e-300, 1e-20, 1e-8, 1.5e-8, 2e-8, 1e-6, 0.5, 2.0, 3.0, 1e8, 1e200, 1e300]
)
def test_fbeta_extreme_beta_matches_exact_arithmetic(beta):
    # Scores on a coarse grid tie often, so equal precisions (or recalls) are
    # common: only beta²'s vanishing term tells the candidates apart.
    b2 = Fraction(beta) ** 2

    def exact(tp, fp, fn):
        tp, fp, fn = int(tp), int(fp), int(fn)
        return (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp else Fraction(0)

    for seed in range(150):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(10, 200))
        scores = rng.choice(np.linspace(0, 1, int(rng.integers(3, 12))), n)
        y = (rng.uniform(size=n) < rng.uniform(0.1, 0.9)).astype(int)
        y[:2] = [0, 1]
        curve, best, _ = _search_and_cut(FBeta(beta), y, scores)
        values = [exact(*c) for c in zip(curve.tp, curve.fp, curve.fn, strict=True)]
        assert values[best] == max(values), seed
    # And through the estimator, on continuous scores.
    rng = np.random.default_rng(5)
    scores = rng.uniform(size=50)
    y = (rng.uniform(size=50) < scores).astype(int)
    rows = np.arange(50)[:, None]
    model = ThresholdTunedClassifier(
        _table(scores), cv="prefit", objective=FBeta(beta)
    ).fit(rows, y)
    predicted = model.predict(rows) == 1
    cuts = np.concatenate(([np.inf], np.unique(scores)))
    counts = [
        (np.sum(c & (y == 1)), np.sum(c & (y == 0)), np.sum(~c & (y == 1)))
        for c in (scores >= cut for cut in cuts)
    ]
    assert (
        exact(*counts[0])
        <= exact(
            np.sum(predicted & (y == 1)),
            np.sum(predicted & (y == 0)),
            np.sum(~predicted & (y == 1)),
        )
        == max(exact(*c) for c in counts)
    )


# --- classes_ in any order ----------------------------------------------------


@pytest.mark.parametrize("recalibrate", [False, True])
@pytest.mark.parametrize("pos_label", [0, 1])
@pytest.mark.parametrize("response_method", ["predict_proba", "decision_function"])
def test_columns_follow_classes_whatever_the_estimator_order(
    data, recalibrate, pos_label, response_method
):
    X, y = data
    params = dict(
        recalibrate=recalibrate, pos_label=pos_label, response_method=response_method
    )
    plain = ThresholdTunedClassifier(LogisticRegression(), **params).fit(X, y)
    reversed_ = ThresholdTunedClassifier(
        ReversedClasses(LogisticRegression()), **params
    ).fit(X, y)
    assert list(reversed_.estimator_.classes_) == [1, 0]
    np.testing.assert_array_equal(reversed_.classes_, [0, 1])
    assert reversed_.threshold_ == plain.threshold_
    np.testing.assert_array_equal(reversed_.predict(X), plain.predict(X))
    for method in ("predict_proba", "decision_function", "predict_log_proba"):
        np.testing.assert_allclose(
            getattr(reversed_, method)(X), getattr(plain, method)(X), rtol=1e-12
        )
    if recalibrate:
        proba = reversed_.predict_proba(X)
        np.testing.assert_array_equal(
            reversed_.classes_[proba.argmax(axis=1)], reversed_.predict(X)
        )


@pytest.mark.parametrize("pos_label", [None, 2])
@pytest.mark.parametrize("recalibrate", [False, True])
def test_multiclass_columns_follow_classes(pos_label, recalibrate):
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )

    class Permuted(ReversedClasses):
        def decision_function(self, X):
            return self.estimator_.decision_function(X)[:, ::-1]

    params = dict(pos_label=pos_label, recalibrate=recalibrate)
    plain = ThresholdTunedClassifier(LogisticRegression(), **params).fit(X, y)
    permuted = ThresholdTunedClassifier(Permuted(LogisticRegression()), **params).fit(
        X, y
    )
    np.testing.assert_array_equal(permuted.threshold_, plain.threshold_)
    np.testing.assert_array_equal(permuted.predict(X), plain.predict(X))
    np.testing.assert_allclose(
        permuted.predict_proba(X), plain.predict_proba(X), rtol=1e-12
    )


# --- metric names mean their metric -------------------------------------------


@pytest.mark.parametrize(
    "name, metric",
    [("accuracy", accuracy_score), ("balanced_accuracy", balanced_accuracy_score)],
)
def test_multiclass_one_class_metric_is_the_metric_of_the_predictions(name, metric):
    X, y = make_classification(
        n_samples=600, n_classes=3, n_informative=4, random_state=2
    )
    frozen = LogisticRegression().fit(X[:300], y[:300])
    model = ThresholdTunedClassifier(
        frozen, cv="prefit", objective=name, pos_label=2
    ).fit(X[300:], y[300:])
    assert model.best_score_ == pytest.approx(
        metric(y[300:], model.predict(X[300:])), abs=1e-15
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "name, metric",
    [("accuracy", accuracy_score), ("balanced_accuracy", balanced_accuracy_score)],
)
def test_multiclass_one_class_metric_is_searched_exactly(name, metric, weighted):
    # Brute force over every cut: the tuned class above it, each row's best
    # other class below it, scored by sklearn's own function.
    X, y = make_classification(
        n_samples=2_500, n_classes=3, n_informative=4, random_state=4
    )
    frozen = LogisticRegression().fit(X[:500], y[:500])
    X, y = X[500:], y[500:]
    weight = np.random.default_rng(4).uniform(0.2, 3, len(y)) if weighted else None
    model = ThresholdTunedClassifier(
        frozen, cv="prefit", objective=name, pos_label=2
    ).fit(X, y, sample_weight=weight)
    proba = frozen.predict_proba(X)
    score, others = proba[:, 2], proba.copy()
    others[:, 2] = -np.inf
    cuts = np.concatenate(([np.inf], np.unique(score)))
    best = max(
        metric(
            y, np.where(score >= cut, 2, others.argmax(axis=1)), sample_weight=weight
        )
        for cut in cuts
    )
    assert model.best_score_ == pytest.approx(best, abs=1e-12)
    assert metric(y, model.predict(X), sample_weight=weight) == pytest.approx(
        best, abs=1e-12
    )


@pytest.mark.parametrize("name", ["accuracy", "balanced_accuracy", "matthews_corrcoef"])
def test_every_class_label_metric_is_the_metric_of_the_predictions(name):
    X, y = make_classification(
        n_samples=900, n_classes=3, n_informative=4, random_state=3
    )
    frozen = LogisticRegression().fit(X[:300], y[:300])
    for recalibrate in (False, True):
        model = ThresholdTunedClassifier(
            frozen, cv="prefit", objective=name, recalibrate=recalibrate
        ).fit(X[300:], y[300:])
        metric = {
            "accuracy": accuracy_score,
            "balanced_accuracy": balanced_accuracy_score,
            "matthews_corrcoef": matthews_corrcoef,
        }[name]
        assert model.best_score_ == pytest.approx(
            metric(y[300:], model.predict(X[300:])), abs=1e-15
        )


def test_multiclass_recall_scorer_is_one_class_recall():
    # "recall" of the tuned class is a count metric: exact and one-vs-rest.
    X, y = make_classification(
        n_samples=600, n_classes=3, n_informative=4, random_state=2
    )
    frozen = LogisticRegression().fit(X[:300], y[:300])
    model = ThresholdTunedClassifier(
        frozen,
        cv="prefit",
        objective=make_scorer(recall_score, labels=[2], average="macro"),
        pos_label=2,
    ).fit(X[300:], y[300:])
    predicted = model.predict(X[300:])
    assert model.best_score_ == pytest.approx(
        recall_score(y[300:] == 2, predicted == 2)
    )


# --- the display checks its labels ---------------------------------------------


def test_display_rejects_labels_the_model_does_not_know(data):
    pytest.importorskip("matplotlib")
    from threshold_estimators.plotting import ThresholdCurveDisplay

    X, y = data
    model = ThresholdTunedClassifier(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match=r"labels the classifier does not know: \[7"):
        ThresholdCurveDisplay.from_estimator(model, X, y + 7)
    with pytest.raises(ValueError, match=r'threshold must be "auto".*got .best.'):
        ThresholdCurveDisplay.from_predictions(y, X[:, 0], threshold="best")
    with pytest.raises(ValueError, match=r'threshold must be "auto".*got True'):
        ThresholdCurveDisplay.from_predictions(y, X[:, 0], threshold=True)
    with pytest.raises(ValueError, match=r"y_score must be 1-D.*shape \(600, 2\)"):
        ThresholdCurveDisplay.from_predictions(y, X[:, :2])
    with pytest.raises(
        ValueError, match=r"y_score must be an array of real numbers; got dtype <U1"
    ):
        ThresholdCurveDisplay.from_predictions(y, ["a"] * len(y))
    with pytest.raises(ValueError, match=r"from_predictions needs two classes"):
        ThresholdCurveDisplay.from_predictions(np.zeros(len(y)), X[:, 0])


def test_cost_rule_decides_in_float64_whatever_the_score_dtype():
    # The k x k cost rule is fitted on float64 scores; predict must decide on
    # float64 too (in float16 the probability clip at 1e-15 underflowed to 0).
    rng = np.random.default_rng(0)
    n, k = 200, 3
    proba = np.round(rng.dirichlet(np.ones(k) * 0.3, size=n), 1)
    proba[:, 0] += 1 - proba.sum(axis=1)
    proba = np.clip(proba, 0, 1)
    y = np.where(rng.random(n) < 0.5, proba.argmax(axis=1), rng.integers(0, k, n))
    matrix = np.array([[0, 1, 4], [2, 0, 1], [8, 3, 0]], dtype=float)
    rows = np.arange(n)[:, None]
    for dtype in DTYPES:
        model = ThresholdTunedClassifier(
            _table(proba, dtype=dtype, classes=(0, 1, 2)),
            cv="prefit",
            objective=CostMatrix(matrix),
        ).fit(rows, y)
        cost = matrix[y, model.predict(rows)].mean()
        assert cost == pytest.approx(-model.best_score_, rel=1e-12)


# --- found by review: each once gave a wrong answer or refused a valid input ---


def test_unit_weights_choose_exactly_what_no_weights_choose():
    # Two cuts whose F1 differ by 1.3e-12 (about 5,900 ulps): integer weights
    # sum exactly, so no tolerance may merge them.
    scores = np.repeat([0.7, 0.3, 0.1], [400_000, 400_000, 400_001])
    y = np.zeros(scores.size, dtype=int)
    y[:300_000] = 1
    y[400_000 : 400_000 + 99_999] = 1
    y[800_000 : 800_000 + 2] = 1
    plain = _search_and_cut(F1(), y, scores)[1:]
    ones = _search_and_cut(F1(), y, scores, np.ones(scores.size))[1:]
    twos = _search_and_cut(F1(), y, scores, np.full(scores.size, 2.0))[1:]
    assert plain == ones == twos


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint64"])
@pytest.mark.parametrize("pos_label", [0, 1])
def test_unsigned_decision_scores_are_negated_without_wrapping(dtype, pos_label):
    class Votes(ScoreTable):
        def decision_function(self, X):
            rows = np.asarray(X)[:, 0].astype(int)
            return np.asarray(self.scores)[rows].astype(self.dtype)

    rng = np.random.default_rng(1)
    votes = rng.integers(0, 11, 120)
    y = (votes + rng.integers(-3, 4, 120) > 5).astype(int)
    rows = np.arange(120)[:, None]
    model = ThresholdTunedClassifier(
        Votes(votes, dtype=dtype).fit(None, None),
        cv="prefit",
        response_method="decision_function",
        pos_label=pos_label,
    ).fit(rows, y)
    tuned = votes if pos_label == 1 else -votes.astype(float)
    truth = y == pos_label
    cuts = np.concatenate(([np.inf], np.unique(tuned)))
    best = max(f1_score(truth, tuned >= cut, zero_division=0.0) for cut in cuts)
    assert model.best_score_ == pytest.approx(best, abs=1e-15)
    assert f1_score(truth, model.predict(rows) == pos_label) == model.best_score_


def test_cv_none_is_the_default_stratified_split():
    model = ThresholdTunedClassifier(LogisticRegression(), cv=None).fit(X60, Y60)
    default = ThresholdTunedClassifier(LogisticRegression()).fit(X60, Y60)
    assert model.threshold_ == default.threshold_


def test_labels_of_one_kind_from_python_and_numpy_are_accepted():
    y = np.array(["neg", "pos"] * 30, dtype=object)
    y[::4] = np.str_("neg")
    model = ThresholdTunedClassifier(LogisticRegression(), pos_label="pos", cv=3)
    assert model.fit(X60, y).classes_.tolist() == ["neg", "pos"]


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_no_positive_call_above_the_largest_value_of_the_dtype(dtype):
    class Margins(ScoreTable):
        def decision_function(self, X):
            rows = np.asarray(X)[:, 0].astype(int)
            return np.asarray(self.scores)[rows].astype(self.dtype)

    top = np.finfo(dtype).max
    scores = np.array([top, top, 0.5, -2.0], dtype=dtype)
    y = np.array([0, 0, 1, 1])
    rows = np.arange(4)[:, None]
    # Calling nothing positive is best for this cost: the cut lies above the
    # dtype's largest value, and is still finite.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ThresholdTunedClassifier(
            Margins(scores, dtype=dtype).fit(None, None),
            cv="prefit",
            response_method="decision_function",
            objective=CostMatrix([[0, 100], [1, 0]]),
            recalibrate=True,
        ).fit(rows, y)
    assert np.isfinite(model.threshold_)
    assert not np.any(model.predict(rows) == 1)
    assert model.best_score_ == -0.5
