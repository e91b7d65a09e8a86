"""One class of a multiclass target tuned against the rest (DESIGN §5)."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import CostMatrix, PrecisionTarget, RecallTarget


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def model():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05))


def best_recall_at_precision(y_is_k, scores, min_precision):
    """Brute force over every cut: the best recall with precision >= target."""
    best = 0.0
    for threshold in np.unique(scores):
        called = scores >= threshold
        if precision_score(y_is_k, called) >= min_precision:
            best = max(best, recall_score(y_is_k, called))
    return best


@pytest.mark.parametrize("method", ["predict_proba", "decision_function"])
def test_class_five_reaches_the_precision_with_the_best_recall(digits, method):
    X, y = digits
    cv = StratifiedKFold(5)
    tuned = ThresholdTunedClassifier(
        model(),
        objective=PrecisionTarget(0.98),
        pos_label=5,
        cv=cv,
        response_method=method,
    ).fit(X, y)
    oof = cross_val_predict(model(), X, y, cv=cv, method=method)[:, 5]
    called = oof >= tuned.threshold_
    assert precision_score(y == 5, called) >= 0.98
    expected = best_recall_at_precision(y == 5, oof, 0.98)
    assert recall_score(y == 5, called) == pytest.approx(expected)
    assert tuned.best_score_ == pytest.approx(expected)


def test_predict_is_the_class_or_the_best_other(digits):
    X, y = digits
    tuned = ThresholdTunedClassifier(
        model(), objective=RecallTarget(0.99), pos_label=5
    ).fit(X, y)
    proba = tuned.estimator_.predict_proba(X)
    others = proba.copy()
    others[:, 5] = -1
    expected = np.where(proba[:, 5] >= tuned.threshold_, 5, np.argmax(others, axis=1))
    np.testing.assert_array_equal(tuned.predict(X), expected)
    # A low cut (recall >= 0.99) calls class 5 more often than argmax does.
    assert np.sum(tuned.predict(X) == 5) >= np.sum(tuned.estimator_.predict(X) == 5)


@pytest.mark.parametrize(
    "estimator", [model(), make_pipeline(StandardScaler(), LinearSVC())]
)
def test_recalibrated_probabilities_keep_the_decision(digits, estimator):
    X, y = digits
    labels = np.array(list("abcdefghij"))[y]
    tuned = ThresholdTunedClassifier(
        estimator, objective="f1", pos_label="f", recalibrate=True
    ).fit(X, labels)
    proba = tuned.predict_proba(X)
    predictions = tuned.predict(X)
    column = list(tuned.classes_).index("f")
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(predictions == "f", proba[:, column] >= 0.5)
    # Below the cut, the predicted class is the most probable of the others.
    others = proba.copy()
    others[:, column] = -1
    not_f = predictions != "f"
    np.testing.assert_array_equal(
        predictions[not_f], tuned.classes_[np.argmax(others, axis=1)][not_f]
    )
    np.testing.assert_allclose(tuned.predict_log_proba(X), np.log(proba), atol=1e-12)


def test_generic_scorer_sees_the_multiclass_predictions():
    X, y = make_classification(
        n_samples=900, n_classes=3, n_informative=5, random_state=0
    )
    seen = []

    def macro_recall(estimator, X_rows, y_true):
        predicted = estimator.predict(X_rows)
        seen.append(set(np.unique(predicted)))
        return recall_score(y_true, predicted, average="macro")

    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=macro_recall, pos_label=2
    ).fit(X, y)
    assert any(len(labels) == 3 for labels in seen)
    # Same rule as predict: the tuned class above the cut, else the best other.
    oof = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(5), method="predict_proba"
    )
    others = oof.copy()
    others[:, 2] = -1
    decided = np.where(oof[:, 2] >= tuned.threshold_, 2, np.argmax(others, axis=1))
    assert tuned.best_score_ == pytest.approx(recall_score(y, decided, average="macro"))


def test_grid_search_and_persistence(digits, tmp_path):
    X, y = digits
    grid = GridSearchCV(
        ThresholdTunedClassifier(model(), objective=PrecisionTarget(0.9), pos_label=5),
        {"objective__min_precision": [0.9, 0.97]},
        cv=3,
    ).fit(X, y)
    path = tmp_path / "tuned.joblib"
    joblib.dump(grid.best_estimator_, path)
    np.testing.assert_array_equal(
        joblib.load(path).predict(X), grid.best_estimator_.predict(X)
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(), "Only binary classification is supported with pos_label=None"),
        (dict(pos_label=11), r"pos_label=11 is not a class of y"),
        (
            dict(pos_label=5, objective=CostMatrix(np.ones((10, 10)) - np.eye(10))),
            "k x k cost rule, which is not supported yet",
        ),
    ],
)
def test_multiclass_errors(digits, params, message):
    X, y = digits
    with pytest.raises(ValueError, match=message):
        ThresholdTunedClassifier(model(), **params).fit(X, y)
