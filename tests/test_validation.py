"""Bad input gets a clear message (the rule and what was received) or a warning."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import LeaveOneOut

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FBeta,
    PrecisionTarget,
    RecallTarget,
)


class _PredictOnly(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


class _NaNScores(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        proba = np.full((len(X), 2), 0.5)
        proba[0] = np.nan
        return proba


class _ConstantOnOneFold(ClassifierMixin, BaseEstimator):
    """Logistic regression, but constant scores when fit on fewer than 500 rows."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.constant_ = len(y) < 500
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        if self.constant_:
            return np.full((len(X), 2), 0.5)
        return self.model_.predict_proba(X)


def _uneven_splits(n):
    index = np.arange(n)
    return [
        (index[100:], index[:100]),
        (index[np.r_[0:100, 200:n][:450]], index[100:200]),
    ]


BAD_INPUT = [
    (
        "objective class, not instance",
        dict(objective=F1),
        None,
        ValueError,
        "objective must be an instance or a scorer, e.g. F1",
    ),
    (
        "infinite beta",
        dict(objective=FBeta(np.inf)),
        None,
        ValueError,
        r"'beta' parameter of FBeta must be a float in the range \(0\.0, inf\)",
    ),
    ("one class", dict(), lambda X, y: (X, np.zeros_like(y)), ValueError, "1 class"),
    (
        "multiclass with a 2x2 cost matrix",
        dict(objective=CostMatrix([[0, 1], [1, 0]])),
        lambda X, y: (X, np.arange(y.size) % 3),
        ValueError,
        "Only binary classification is supported with a 2x2 CostMatrix",
    ),
    (
        "continuous y",
        dict(),
        lambda X, y: (X, y + 0.5 * np.arange(y.size)),
        ValueError,
        "Unknown label type",
    ),
    (
        "no scores",
        dict(estimator=_PredictOnly()),
        None,
        ValueError,
        "must be an object implementing 'fit' and 'predict_proba'",
    ),
    (
        "NaN scores",
        dict(estimator=_NaNScores()),
        None,
        ValueError,
        "non-finite scores: 5 NaN",
    ),
    (
        "constant scores",
        dict(estimator=DummyClassifier()),
        None,
        ValueError,
        "gives every sample the same score within each validation fold",
    ),
    (
        "infeasible precision",
        dict(objective=PrecisionTarget(0.9), estimator="inverted"),
        None,
        ValueError,
        r"best precision reachable is 0\.\d{4} \(recall",
    ),
    (
        "precision above 1",
        dict(objective=PrecisionTarget(1.2)),
        None,
        ValueError,
        r"'min_precision' parameter of PrecisionTarget must be a float in the range "
        r"\(0\.0, 1\.0\]\. Got 1\.2 instead",
    ),
    (
        "recall of 0",
        dict(objective=RecallTarget(0)),
        None,
        ValueError,
        r"'min_recall' .* Got 0 instead",
    ),
    (
        "cost matrix shape",
        dict(objective=CostMatrix(np.eye(3))),
        None,
        ValueError,
        r"2x2 matrix .* got shape \(3, 3\)",
    ),
    (
        "cost matrix without preference",
        dict(objective=CostMatrix([[1, 1], [1, 1]])),
        None,
        ValueError,
        "no preference",
    ),
    (
        "unknown scorer",
        dict(objective="f2"),
        None,
        ValueError,
        "'objective' parameter of ThresholdTunedClassifier must be",
    ),
    (
        "probability scorer",
        dict(objective="roc_auc"),
        None,
        ValueError,
        "no decision threshold changes",
    ),
    (
        "pos_label not a class",
        dict(pos_label=7),
        None,
        ValueError,
        r"pos_label=7 is not a class of y; the classes are \[0, 1\]",
    ),
    (
        "prefit unfitted",
        dict(cv="prefit"),
        None,
        NotFittedError,
        "cv='prefit' needs an already fitted estimator",
    ),
]


@pytest.mark.parametrize(
    ("params", "transform", "error", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_gets_a_clear_message(data, params, transform, error, message):
    X, y = data
    if transform is not None:
        X, y = transform(X, y)
    params = {"estimator": LogisticRegression(), **params}
    if params["estimator"] == "inverted":  # its best precision is far below 0.9
        params["estimator"] = FrozenEstimator(LogisticRegression().fit(X, 1 - y))
    with pytest.raises(error, match=message):
        ThresholdTunedClassifier(**params).fit(X[:200], y[:200])


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (
            -np.ones(200),
            r"sample_weight must be finite and non-negative; got min=-1\.0",
        ),
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(200,\)"),
        (np.r_[np.zeros(100), np.ones(100)], "Each class needs a positive total"),
    ],
    ids=["negative", "wrong size", "a class without weight"],
)
def test_bad_sample_weight(data, weights, message):
    X, y = data
    X, y = X[:200], np.r_[np.zeros(100, int), np.ones(100, int)]
    with pytest.raises(ValueError, match=message):
        ThresholdTunedClassifier(LogisticRegression()).fit(X, y, sample_weight=weights)


def test_a_fold_with_constant_scores_warns(data):
    X, y = data
    model = ThresholdTunedClassifier(_ConstantOnOneFold(), cv=_uneven_splits(600))
    with pytest.warns(UserWarning, match="Fold 1 scores its 100 validation samples"):
        model.fit(X, y)


def test_leave_one_out_is_accepted(data):
    X, y = data
    model = ThresholdTunedClassifier(LogisticRegression(), cv=LeaveOneOut())
    model.fit(X[:60], y[:60])
    assert np.isfinite(model.threshold_)


def test_validation_folds_missing_a_class(data):
    X, y = data
    negatives, positives = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    train = np.r_[negatives[:200], positives]
    split = [(train, negatives[200:])]
    with pytest.raises(
        ValueError, match=r"hold no sample of class 1 \(out of 248 out-of-fold rows\)"
    ):
        ThresholdTunedClassifier(LogisticRegression(), cv=split).fit(X, y)


def test_custom_scorer_without_sample_weight(data):
    X, y = data

    def plain_scorer(estimator, X_rows, y_true):
        return f1_score(y_true, estimator.predict(X_rows))

    model = ThresholdTunedClassifier(LogisticRegression(), objective=plain_scorer)
    model.fit(X, y)
    with pytest.raises(ValueError, match="does not accept sample_weight"):
        model.fit(X, y, sample_weight=np.ones(y.size))


def test_empty_cv(data):
    X, y = data
    with pytest.raises(ValueError, match="cv produced no train/test split"):
        ThresholdTunedClassifier(LogisticRegression(), cv=[]).fit(X, y)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([0, 1]),
        np.array([False, True]),
        np.array([True]),  # one class, as a counts' edge
        np.array([-1, 1]),
        np.array([-1, 0, 1]),
        np.array([3, 4, 5, 6], dtype=np.uint8),
        np.array([2, 7, 40]),
        np.array([0.0, 1.0]),
        np.array(["ham", "spam"]),
        np.array([-(2**62), 2**62]),
        np.array([10**10, 10**10 + 1]),  # far from 0: counted from the least
        np.array([2**62, 2**62 + 1], dtype=np.uint64),
        np.array([-1, 0], dtype=np.int8),  # two labels, the lower not 0
        np.array([4, 5], dtype=np.int16),
        np.array([2**63 - 2, 2**63 - 1]),
    ],
)
def test_class_index_is_the_position_in_the_sorted_classes(labels):
    from threshold_estimators._validation import class_index, unique_labels

    y = np.random.default_rng(0).choice(labels, size=1000)
    classes = unique_labels(y)
    np.testing.assert_array_equal(classes, np.unique(y))
    # With counts: np.unique's, whichever way they are counted.
    expected, expected_counts = np.unique(y, return_counts=True)
    counted, counts = unique_labels(y, return_counts=True)
    np.testing.assert_array_equal(counted, expected)
    np.testing.assert_array_equal(counts, expected_counts)
    index = class_index(y, classes)
    np.testing.assert_array_equal(index, np.searchsorted(classes, y))
    np.testing.assert_array_equal(classes[index], y)
