"""FixedCut: the user's cut, applied and reported, never searched."""

import numpy as np
import pytest
from rule_data import binary_scores_data, out_of_fold
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._rules import FixedCut
from threshold_estimators.objectives import FixedThreshold


@pytest.fixture
def binary_scores():
    return binary_scores_data()


def fixed(threshold, **params):
    return FixedCut(
        FixedThreshold(threshold),
        classes=np.array([0, 1]),
        pos_label=1,
        response_method="predict_proba",
        recalibrate=params.get("recalibrate", False),
        store_cv_results=params.get("store_cv_results", False),
    )


@pytest.mark.parametrize("cut", [0.0, 0.25, 0.3, 0.305, 0.5, 0.99, 1.5])
def test_counts_and_score_are_those_of_the_cut(binary_scores, cut):
    y, scores = binary_scores
    fitted = fixed(cut).fit(out_of_fold(scores, 3), y, None, None)
    called = scores >= cut
    assert fitted.threshold_ == cut
    assert fitted.counts_ == {
        "tp": int(np.sum(called & (y == 1))),
        "fp": int(np.sum(called & (y == 0))),
        "tn": int(np.sum(~called & (y == 0))),
        "fn": int(np.sum(~called & (y == 1))),
    }
    assert fitted.best_score_ == pytest.approx(f1_score(y, called, zero_division=0))
    np.testing.assert_array_equal(fitted.fold_thresholds_, [cut] * 3)
    assert fitted.threshold_std_ == 0.0


def test_fixed_cut_in_the_estimator_reads_half_at_the_cut():
    """The sigmoid network story: cut at 0.25, probabilities read 0.5 there."""
    X, y = make_classification(n_samples=2_000, weights=[0.8], random_state=0)
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=FixedThreshold(0.25), recalibrate=True
    ).fit(X, y)
    assert model.threshold_ == 0.25
    raw = model.estimator_.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(model.predict(X), (raw >= 0.25).astype(int))
    proba = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(model.predict(X), (proba >= 0.5).astype(int))
    calibrator = model.calibrator_
    assert calibrator.predict_proba([0.25])[0, 1] == pytest.approx(0.5)
    assert calibrator.predict_proba([1e-12])[0, 1] < 0.01
    assert calibrator.predict_proba([1 - 1e-12])[0, 1] > 0.99
    # Monotone, as a probability of the tuned class must be.
    grid = np.linspace(0.001, 0.999, 999)
    assert np.all(np.diff(calibrator.predict_proba(grid)[:, 1]) >= 0)
    assert expit(0) == 0.5  # the operating log-odds are 0 at the cut
    assert model.decision_function(X[:1]).shape == (1,)


def test_fixed_cut_on_one_class_of_many_and_refused_for_every_class():
    X, y = make_classification(
        n_samples=600, n_classes=3, n_informative=4, random_state=0
    )
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=FixedThreshold(0.6), pos_label=2
    ).fit(X, y)
    proba = model.estimator_.predict_proba(X)
    others = proba.copy()
    others[:, 2] = -np.inf
    expected = np.where(proba[:, 2] >= 0.6, 2, np.argmax(others, axis=1))
    np.testing.assert_array_equal(model.predict(X), expected)
    with pytest.raises(ValueError, match="FixedThreshold gives the cut of one class"):
        ThresholdTunedClassifier(
            LogisticRegression(), objective=FixedThreshold(0.6)
        ).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, True, "0.5"])
def test_fixed_threshold_must_be_a_finite_number(bad):
    X, y = make_classification(n_samples=100, random_state=0)
    with pytest.raises((ValueError, TypeError), match=r"FixedThreshold|threshold"):
        ThresholdTunedClassifier(
            LogisticRegression(), objective=FixedThreshold(bad)
        ).fit(X, y)


def test_tags_say_a_fixed_cut_without_a_class_is_binary_only():
    from sklearn.utils import get_tags

    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=FixedThreshold(0.3), pos_label=1
    )
    assert get_tags(model).classifier_tags.multi_class
    model.set_params(pos_label=None)
    assert not get_tags(model).classifier_tags.multi_class
