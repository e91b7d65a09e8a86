"""CostRule: least expected cost under tempered probabilities."""

import numpy as np
import pytest
from rule_data import GivenScores, out_of_fold
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._rules import CostRule
from threshold_estimators.objectives import CostMatrix

MATRIX = np.array([[0.0, 1.0, 4.0], [2.0, 0.0, 1.0], [8.0, 3.0, 0.0]])


def test_bayes_decision_is_the_least_expected_cost():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 3, 500)
    logits = rng.normal(size=(500, 3)) + 2 * np.eye(3)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    objective = CostMatrix(MATRIX)
    objective.matrix = MATRIX
    fitted = CostRule(
        objective,
        classes=np.array([0, 1, 2]),
        pos_label=None,
        response_method="predict_proba",
        recalibrate=False,
        store_cv_results=True,
    ).fit(out_of_fold(proba, 1), y, None, None)
    assert fitted.cost_rule_ == "bayes"  # one fold: nothing to validate offsets on
    temperature = fitted.cost_temperature_
    tempered = np.exp(np.log(np.clip(proba, 1e-15, 1)) / temperature)
    tempered /= tempered.sum(axis=1, keepdims=True)
    expected = np.argmin(tempered @ MATRIX, axis=1)
    model = GivenScores(proba, [0, 1, 2])
    predicted = fitted.predict(model, np.arange(len(y))[:, None])
    np.testing.assert_array_equal(predicted, expected)
    cost = MATRIX[y, expected].mean()
    assert fitted.best_score_ == pytest.approx(-cost)
    assert set(fitted.cv_results_) == {"class_offsets", "cost", "rule", "temperature"}


def test_cost_rule_refuses_what_it_cannot_do():
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )
    with pytest.raises(ValueError, match="needs predict_proba"):
        ThresholdTunedClassifier(LinearSVC(), objective=CostMatrix(MATRIX)).fit(X, y)
    with pytest.raises(ValueError, match="recalibrate=True is not available"):
        ThresholdTunedClassifier(
            LogisticRegression(), objective=CostMatrix(MATRIX), recalibrate=True
        ).fit(X, y)
