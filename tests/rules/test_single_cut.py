"""SingleCut: one cut on one class's score."""

import numpy as np
import pytest
from rule_data import GivenScores, binary_scores_data, out_of_fold
from sklearn.metrics import f1_score, precision_score, recall_score

from threshold_estimators import _best_cut
from threshold_estimators._rules import SingleCut
from threshold_estimators.objectives import F1, PrecisionTarget


@pytest.fixture
def binary_scores():
    return binary_scores_data()


def rule(objective, classes=(0, 1), pos_label=1, **params):
    return SingleCut(
        objective,
        classes=np.asarray(classes),
        pos_label=pos_label,
        response_method="predict_proba",
        recalibrate=params.pop("recalibrate", False),
        store_cv_results=params.pop("store_cv_results", False),
    )


def brute_force_best_f1(y, scores):
    """The best F1 over every cut ``scores >= c``, by scikit-learn's metric."""
    return max(
        f1_score(y, scores >= cut, zero_division=0.0) for cut in np.unique(scores)
    )


def test_threshold_is_the_brute_force_optimum(binary_scores):
    y, scores = binary_scores
    fitted = rule(F1()).fit(out_of_fold(scores, 3), y, None, None)
    decisions = scores >= fitted.threshold_
    assert f1_score(y, decisions) == pytest.approx(brute_force_best_f1(y, scores))
    assert fitted.best_score_ == pytest.approx(f1_score(y, decisions))
    tp = int(np.sum(decisions & (y == 1)))
    fp = int(np.sum(decisions & (y == 0)))
    assert (fitted.counts_["tp"], fitted.counts_["fp"]) == (tp, fp)
    assert fitted.fold_thresholds_.shape == (3,)


def test_precision_target_is_met_with_the_best_recall(binary_scores):
    y, scores = binary_scores
    fitted = rule(PrecisionTarget(0.8)).fit(out_of_fold(scores), y, None, None)
    decisions = scores >= fitted.threshold_
    assert precision_score(y, decisions) >= 0.8
    best_recall = max(
        recall_score(y, scores >= cut)
        for cut in np.unique(scores)
        if precision_score(y, scores >= cut, zero_division=0) >= 0.8
    )
    assert recall_score(y, decisions) == best_recall


def test_predict_applies_the_cut_to_the_models_scores(binary_scores):
    y, scores = binary_scores
    model = GivenScores(scores, [0, 1])
    fitted = rule(F1()).fit(out_of_fold(scores), y, None, None)
    rows = np.arange(len(y))[:, None]
    np.testing.assert_array_equal(
        fitted.predict(model, rows), (scores >= fitted.threshold_).astype(int)
    )


def test_labels_other_than_zero_one_and_the_first_class_tuned(binary_scores):
    y, scores = binary_scores
    labels = np.array(["spam", "ham"])[y]  # classes (ham, spam); spam tuned
    fitted = rule(F1(), classes=("ham", "spam"), pos_label="spam")
    fitted.fit(out_of_fold(scores), labels, None, None)
    model = GivenScores(np.column_stack([1 - scores, scores]), ["ham", "spam"])
    expected = np.where(scores >= fitted.threshold_, "spam", "ham")
    predicted = fitted.predict(model, np.arange(len(y))[:, None])
    np.testing.assert_array_equal(predicted, expected)


def test_recalibrated_probabilities_agree_with_the_decision(binary_scores):
    y, scores = binary_scores
    fitted = rule(F1(), recalibrate=True).fit(out_of_fold(scores, 3), y, None, None)
    model = GivenScores(scores, [0, 1])
    rows = np.arange(len(y))[:, None]
    proba = fitted.probabilities(model, rows, "predict_proba")
    np.testing.assert_array_equal(fitted.predict(model, rows), proba[:, 1] >= 0.5)
    assert fitted.calibrator_.threshold == fitted.threshold_


def test_a_single_fold_is_searched_once(binary_scores, monkeypatch):
    """One fold is the pooled data: its statistics reuse the pooled search."""
    y, scores = binary_scores
    calls = []
    evaluate = _best_cut._evaluate_prepared

    def counting(*args, **kwargs):
        calls.append(1)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(_best_cut, "_evaluate_prepared", counting)
    fitted = rule(F1(), store_cv_results=True).fit(out_of_fold(scores), y, None, None)
    assert len(calls) == 1
    np.testing.assert_array_equal(fitted.fold_thresholds_, [fitted.threshold_])
    assert np.isnan(fitted.threshold_std_)
    curve = fitted.cv_results_["fold_curves"][0]
    np.testing.assert_array_equal(curve["thresholds"], fitted.cv_results_["thresholds"])
    calls.clear()
    rule(F1()).fit(out_of_fold(scores, 4), y, None, None)
    assert len(calls) == 5  # pooled, then each of the four folds
