"""PerClassCuts: every class with its own one-vs-rest cut."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_data import GivenScores, out_of_fold
from scipy.special import logit
from sklearn.metrics import f1_score

from threshold_estimators._multiclass import best_other, top_two
from threshold_estimators._rules import PerClassCuts
from threshold_estimators.objectives import F1


@pytest.fixture
def three_classes():
    rng = np.random.RandomState(1)
    y = rng.randint(0, 3, 400)
    logits = rng.normal(size=(400, 3)) + 1.5 * np.eye(3)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, np.round(proba, 3)


def per_class(**params):
    return PerClassCuts(
        F1(),
        classes=np.array([0, 1, 2]),
        pos_label=None,
        response_method="predict_proba",
        recalibrate=params.get("recalibrate", False),
        store_cv_results=False,
    )


def test_each_cut_is_its_classs_one_vs_rest_optimum(three_classes):
    y, proba = three_classes
    fitted = per_class().fit(out_of_fold(proba, 3), y, None, None)
    for k in range(3):
        best = max(
            f1_score(y == k, proba[:, k] >= cut) for cut in np.unique(proba[:, k])
        )
        assert f1_score(y == k, proba[:, k] >= fitted.threshold_[k]) == best
    assert fitted.threshold_std_.shape == (3,)


def test_predict_is_the_largest_logit_margin(three_classes):
    y, proba = three_classes
    fitted = per_class().fit(out_of_fold(proba), y, None, None)
    clipped = np.clip(proba, 1e-15, 1 - 1e-15)
    margins = logit(clipped) - logit(fitted.threshold_)
    model = GivenScores(proba, [0, 1, 2])
    predicted = fitted.predict(model, np.arange(len(y))[:, None])
    np.testing.assert_array_equal(predicted, np.argmax(margins, axis=1))


def test_recalibrated_predict_is_the_argmax_of_the_probabilities(three_classes):
    y, proba = three_classes
    fitted = per_class(recalibrate=True).fit(out_of_fold(proba, 3), y, None, None)
    model = GivenScores(proba, [0, 1, 2])
    rows = np.arange(len(y))[:, None]
    operating = fitted.probabilities(model, rows, "predict_proba")
    np.testing.assert_allclose(operating.sum(axis=1), 1)
    np.testing.assert_array_equal(
        fitted.predict(model, rows), np.argmax(operating, axis=1)
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=4, max_size=4), min_size=1))
def test_top_two_gives_each_columns_best_other_class(rows):
    """Computed once for all classes, it equals the naive masked argmax."""
    scores = np.asarray(rows, dtype=float)  # small integers: many ties
    classes = np.array(["a", "b", "c", "d"])
    top = top_two(scores)
    for column in range(4):
        masked = scores.copy()
        masked[:, column] = -np.inf
        expected = classes[np.argmax(masked, axis=1)]
        np.testing.assert_array_equal(
            best_other(scores, column, classes, top), expected
        )
