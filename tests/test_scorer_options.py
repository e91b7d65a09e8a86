"""Scorers with keyword arguments: their class is tuned, their average searched
exactly; displays take the per-row values an objective reads."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    f1_score,
    fbeta_score,
    jaccard_score,
    make_scorer,
    precision_score,
    recall_score,
)

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators.objectives import CostMatrix, ScorerObjective


def brute_force_best(y, scores, metric):
    """The best value of ``metric(y, y_pred)`` over every cut, by evaluation."""
    cuts = np.concatenate(([np.inf], np.unique(scores)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined precision at the top cut
        return max(metric(y, scores >= cut) for cut in cuts)


@pytest.fixture(scope="module")
def tied_scores():
    rng = np.random.default_rng(3)
    y = rng.random(400) < 0.3
    # Rounded scores: many ties, so a cut between two equal scores would show.
    scores = np.round(rng.random(400) + 0.4 * y, 2)
    return y, scores


@pytest.mark.parametrize(
    "metric, kwargs",
    [
        (f1_score, {"average": "macro"}),
        (f1_score, {"average": "weighted"}),
        (f1_score, {"average": "micro"}),
        (precision_score, {"average": "macro", "zero_division": 1}),
        (recall_score, {"average": "weighted"}),
        (jaccard_score, {"average": "macro"}),
        (fbeta_score, {"beta": 2, "average": "macro"}),
        (precision_score, {"zero_division": 1}),
        (f1_score, {"pos_label": True, "average": "binary"}),
    ],
)
def test_averaged_count_scorers_are_searched_exactly(tied_scores, metric, kwargs):
    y, scores = tied_scores
    scorer = make_scorer(metric, **kwargs)
    pick = pick_threshold(y, scores, scorer)
    assert not isinstance(pick.objective, ScorerObjective)
    expected = brute_force_best(y, scores, lambda t, p: metric(t, p, **kwargs))
    assert pick.score == pytest.approx(expected, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reached = metric(y, scores >= pick.threshold, **kwargs)
    assert reached == pytest.approx(expected, rel=1e-12)


def test_samples_average_is_not_taken_for_a_count_metric(tied_scores):
    y, scores = tied_scores
    pick = pick_threshold(y, scores, make_scorer(f1_score, average="macro"))
    assert pick.objective.display_name == "f1 (macro)"
    multiclass = np.where(y, 2, np.arange(y.size) % 2)
    with pytest.raises(ValueError, match="needs the rows"):
        pick_threshold(
            multiclass, scores, make_scorer(f1_score, average="macro"), pos_label=2
        )


def test_a_scorer_pos_label_is_the_class_tuned():
    X, y = make_classification(600, weights=[0.7], random_state=0)
    labels = np.where(y == 1, "rare", "common")
    scorer = make_scorer(precision_score, pos_label="common")
    model = ThresholdTunedClassifier(LogisticRegression(), objective=scorer).fit(
        X, labels
    )
    assert model.pos_label_ == "common"
    same = ThresholdTunedClassifier(
        LogisticRegression(), objective="precision", pos_label="common"
    ).fit(X, labels)
    assert model.threshold_ == same.threshold_
    assert model.best_score_ == same.best_score_


def test_two_different_classes_named_are_refused():
    X, y = make_classification(200, random_state=0)
    scorer = make_scorer(f1_score, pos_label=0)
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=scorer, pos_label=1
    )
    with pytest.raises(ValueError, match="name different classes"):
        model.fit(X, y)
    with pytest.raises(ValueError, match="name different classes"):
        pick_threshold(y, np.linspace(0, 1, y.size), scorer, pos_label=1)


def test_a_scorer_pos_label_in_pick_threshold():
    y = np.array(["a", "b", "a", "b", "a", "b"])
    scores = np.array([0.9, 0.1, 0.8, 0.7, 0.3, 0.2])  # scores of "a"
    pick = pick_threshold(y, scores, make_scorer(f1_score, pos_label="a"))
    assert pick.pos_label == "a"
    # F1 of "a": 6/7 with the cut between 0.2 and 0.3 (one false alarm at 0.7),
    # 4/5 above 0.7.
    assert pick.threshold == pytest.approx(0.25)
    assert pick.score == pytest.approx(6 / 7)


def test_displays_take_the_per_row_costs():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from threshold_estimators.plotting import ThresholdCurveDisplay

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.2
    scores = rng.random(500) + 0.3 * y
    amount = rng.lognormal(3, 1, 500)
    objective = CostMatrix([[0, 5], ["amount", 0]])
    display = ThresholdCurveDisplay.from_predictions(
        y, scores, objective=objective, metadata={"amount": amount}
    )
    pick = pick_threshold(y, scores, objective, amount=amount)
    assert display.threshold == pick.threshold
    with pytest.raises(ValueError, match="were not given"):
        ThresholdCurveDisplay.from_predictions(y, scores, objective=objective)
    with pytest.raises(ValueError, match="one value per sample"):
        ThresholdCurveDisplay.from_predictions(
            y, scores, objective=objective, metadata={"amount": amount[:-1]}
        )
