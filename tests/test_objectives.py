"""Objectives against sklearn.metrics, and their validation messages."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    fbeta_score,
    jaccard_score,
    make_scorer,
    matthews_corrcoef,
    precision_score,
    recall_score,
)

from threshold_estimators._scoring import ScorerObjective, resolve_objective
from threshold_estimators._search import confusion_curve
from threshold_estimators._selection import best_candidate
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FBeta,
    PrecisionTarget,
    RecallTarget,
)

rng = np.random.default_rng(0)
Y = rng.integers(0, 2, 300)
SCORE = np.round(rng.random(300) + 0.4 * Y, 2)
WEIGHT = rng.random(300) * 3


def curve_and_predictions(weighted):
    w = WEIGHT if weighted else None
    curve = confusion_curve(Y == 1, SCORE, w)
    predictions = [(SCORE >= t).astype(int) for t in curve.thresholds]
    return curve, predictions, w


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("f1", f1_score),
        ("precision", precision_score),
        ("recall", recall_score),
        ("accuracy", accuracy_score),
        ("balanced_accuracy", balanced_accuracy_score),
        ("jaccard", jaccard_score),
        ("matthews_corrcoef", matthews_corrcoef),
    ],
)
def test_scorer_names_become_exact_count_objectives(name, metric, weighted):
    objective = resolve_objective(name, LogisticRegression(), positive_index=1)
    assert not isinstance(objective, ScorerObjective)
    curve, predictions, w = curve_and_predictions(weighted)
    kwargs = {"zero_division": 0.0} if name in {"precision", "recall", "f1"} else {}
    expected = [metric(Y, p, sample_weight=w, **kwargs) for p in predictions]
    np.testing.assert_allclose(objective.score(*curve.counts), expected, atol=1e-12)


@pytest.mark.parametrize("beta", [0.3, 1.0, 2.5])
def test_fbeta_matches_sklearn(beta):
    curve, predictions, w = curve_and_predictions(weighted=True)
    expected = [
        fbeta_score(Y, p, beta=beta, sample_weight=w, zero_division=0.0)
        for p in predictions
    ]
    np.testing.assert_allclose(FBeta(beta).score(*curve.counts), expected, atol=1e-12)
    mapped = resolve_objective(make_scorer(fbeta_score, beta=beta), None, 1)
    assert isinstance(mapped, FBeta) and mapped.beta == beta


def test_f1_is_fbeta_one():
    curve, _, _ = curve_and_predictions(weighted=False)
    np.testing.assert_allclose(F1().score(*curve.counts), FBeta(1).score(*curve.counts))


def test_other_scorers_are_evaluated_on_a_bounded_grid():
    # "samples" averaging is not a function of the binary confusion counts
    scorer = make_scorer(f1_score, average="samples")
    objective = resolve_objective(scorer, None, 1)
    assert isinstance(objective, ScorerObjective)
    indices = objective.candidate_indices(10_000)
    assert indices.size <= objective.n_candidates
    assert indices[0] == 0 and indices[-1] == 9_999


@pytest.mark.parametrize("name", ["roc_auc", "neg_log_loss", "average_precision"])
def test_probability_scorers_are_rejected(name):
    with pytest.raises(ValueError, match="no decision threshold changes"):
        resolve_objective(name, LogisticRegression(), 1)


def test_cost_matrix_is_reoriented_for_the_first_class():
    matrix = [[0.0, 3.0], [7.0, 0.0]]  # classes_ order: truth row, prediction column
    first = resolve_objective(CostMatrix(matrix), None, positive_index=0)
    # Tuning classes_[0]: a false negative misses class 0, costing matrix[0][1].
    _, cost_fp, cost_fn, _ = first._binary_costs()
    assert (cost_fn, cost_fp) == (3.0, 7.0)
    assert CostMatrix(matrix).matrix == matrix  # the user's object is untouched


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        (PrecisionTarget(0.0), "min_precision"),
        (PrecisionTarget(1.5), "min_precision"),
        (RecallTarget(-0.1), "min_recall"),
        (FBeta(0), "beta"),
        (PrecisionTarget(0.5, on_infeasible="ignore"), "on_infeasible"),
        (CostMatrix([[0, 1, 2], [1, 0, 1]]), "2x2 matrix"),
        (CostMatrix([[0, 1], [0, 0]]), "no preference"),
        (CostMatrix([[1, 0], [0, 1]]), "no preference"),
        (CostMatrix([[0, np.nan], [1, 0]]), "finite"),
    ],
    ids=repr,
)
def test_invalid_objectives_say_the_rule_and_the_value(objective, message):
    with pytest.raises(ValueError, match=message):
        objective._validate()


def test_infeasible_precision_raises_with_the_best_reachable():
    # Precision of the cuts from the top: 0, 1/2, 2/3, 2/4, 3/5.
    y = np.array([0, 1, 1, 0, 1])
    curve = confusion_curve(y == 1, np.array([0.9, 0.8, 0.7, 0.6, 0.5]))
    message = r"best precision reachable is 0\.6667 \(recall 0\.6667 there\)"
    with pytest.raises(ValueError, match=message):
        best_candidate(PrecisionTarget(0.9), curve)
    with pytest.warns(UserWarning, match="Falling back"):
        index = best_candidate(PrecisionTarget(0.9, on_infeasible="warn"), curve)
    assert curve.thresholds[index] == 0.7


def test_recall_target_is_always_feasible_at_the_lowest_cut():
    y = np.array([1, 0, 0, 1])
    curve = confusion_curve(y == 1, np.array([0.9, 0.8, 0.7, 0.1]))
    index = best_candidate(RecallTarget(1.0), curve)
    assert curve.thresholds[index] == 0.1
