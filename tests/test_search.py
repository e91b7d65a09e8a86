"""The exact search against brute force over every cut, with sklearn.metrics."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, fbeta_score, precision_score, recall_score

from threshold_estimators._search import confusion_curve, cut_point
from threshold_estimators._selection import best_candidate
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FBeta,
    PrecisionTarget,
    RecallTarget,
)


def all_cuts(y_score):
    """Every cut giving a different partition: above the max, then each score."""
    distinct = np.unique(y_score)
    return np.concatenate(([distinct[-1] + 1.0], distinct[::-1]))


def sklearn_value(objective, y, y_pred, w):
    """The objective on thresholded labels, written with sklearn.metrics only."""
    if isinstance(objective, FBeta):
        return fbeta_score(
            y, y_pred, beta=objective.beta, sample_weight=w, zero_division=0.0
        )
    if isinstance(objective, F1):
        return fbeta_score(y, y_pred, beta=1.0, sample_weight=w, zero_division=0.0)
    if isinstance(objective, PrecisionTarget):
        return recall_score(y, y_pred, sample_weight=w, zero_division=0.0)
    if isinstance(objective, RecallTarget):
        return precision_score(y, y_pred, sample_weight=w, zero_division=0.0)
    if isinstance(objective, CostMatrix):
        counts = confusion_matrix(y, y_pred, sample_weight=w, labels=[0, 1])
        return -np.sum(np.asarray(objective.matrix) * counts) / counts.sum()
    raise AssertionError(objective)


def sklearn_feasible(objective, y, y_pred, w):
    if isinstance(objective, PrecisionTarget):
        if not np.any(y_pred):
            return False
        precision = precision_score(y, y_pred, sample_weight=w)
        return precision >= objective.min_precision * (1 - 1e-12)
    if isinstance(objective, RecallTarget):
        recall = recall_score(y, y_pred, sample_weight=w, zero_division=0.0)
        return np.any(y_pred) and recall >= objective.min_recall * (1 - 1e-12)
    return True


def brute_force_best(objective, y, y_score, w):
    """Best objective value over every cut, or None when no cut is feasible."""
    values = [
        sklearn_value(objective, y, (y_score >= t).astype(int), w)
        for t in all_cuts(y_score)
        if sklearn_feasible(objective, y, (y_score >= t).astype(int), w)
    ]
    return max(values) if values else None


OBJECTIVES = [
    F1(),
    FBeta(beta=0.5),
    FBeta(beta=3.0),
    PrecisionTarget(0.7),
    RecallTarget(0.8),
    CostMatrix([[0.0, 1.0], [5.0, 0.0]]),
    CostMatrix([[-1.0, 2.0], [3.0, -0.5]]),
]


@st.composite
def scored_samples(draw):
    n = draw(st.integers(2, 60))
    # Few distinct values: many ties.
    levels = draw(st.integers(1, 8))
    y_score = np.array(draw(st.lists(st.integers(0, levels), min_size=n, max_size=n)))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[:2] = [1, 0]  # both classes present
    weighted = draw(st.booleans())
    w = None
    if weighted:
        w = np.array(draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n)))
        w[y == 1] += 0.1  # positive total weight in each class
        w[y == 0] += 0.1
    return y, y_score / 3.0, w


@pytest.mark.parametrize("objective", OBJECTIVES, ids=repr)
@settings(max_examples=150, deadline=None)
@given(data=scored_samples())
def test_search_matches_brute_force(objective, data):
    y, y_score, w = data
    curve = confusion_curve(y == 1, y_score, w)
    expected = brute_force_best(objective, y, y_score, w)
    if expected is None:
        with pytest.raises(ValueError, match="No threshold reaches"):
            best_candidate(objective, curve)
        return
    index = best_candidate(objective, curve)
    threshold = cut_point(curve.thresholds, index)
    y_pred = (y_score >= threshold).astype(int)
    # The threshold found reproduces the candidate's decisions ...
    assert sklearn_feasible(objective, y, y_pred, w)
    # ... and reaches the best value any cut can reach.
    assert sklearn_value(objective, y, y_pred, w) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=scored_samples(), transform=st.sampled_from(["exp", "cube", "logit"]))
def test_decisions_invariant_under_increasing_transform(data, transform):
    y, y_score, w = data
    moved = {
        "exp": np.exp(y_score),
        "cube": (y_score - 1.0) ** 3 * 10,
        "logit": np.log1p(y_score) - np.log1p(3.0 - y_score),
    }[transform]
    for objective in OBJECTIVES[:3] + OBJECTIVES[5:]:
        original = confusion_curve(y == 1, y_score, w)
        transformed = confusion_curve(y == 1, moved, w)
        i, j = (
            best_candidate(objective, original),
            best_candidate(objective, transformed),
        )
        assert i == j
        decisions = y_score >= cut_point(original.thresholds, i)
        moved_decisions = moved >= cut_point(transformed.thresholds, j)
        np.testing.assert_array_equal(decisions, moved_decisions)


@settings(max_examples=100, deadline=None)
@given(data=scored_samples())
def test_counts_match_confusion_matrix(data):
    y, y_score, w = data
    curve = confusion_curve(y == 1, y_score, w)
    assert curve.thresholds[0] == np.inf
    assert np.all(np.diff(curve.thresholds) < 0)
    for k, threshold in enumerate(curve.thresholds):
        (tn, fp), (fn, tp) = confusion_matrix(
            y, (y_score >= threshold).astype(int), sample_weight=w, labels=[0, 1]
        )
        np.testing.assert_allclose(
            [curve.tp[k], curve.fp[k], curve.tn[k], curve.fn[k]],
            [tp, fp, tn, fn],
            atol=1e-9,
        )


@pytest.mark.parametrize(
    "levels",
    [
        # Non-negative scores: one sort of the scores with their labels.
        [0.0, 0.25, 0.5, 1.0],
        [0.0, 5e-324, 1e-300, 1.9999999999999998, 2.0, 3.0],  # every exponent
        [0.0, 1.0, 1e300, np.finfo(float).max],
        # Other scores are sorted alone, the positives found by rank.
        [-0.0, 0.0, 0.5],  # -0.0 ties with 0.0
        [-3.0, -1e-300, 0.0, 7.5],  # decision-function scores
    ],
)
def test_unweighted_counts_on_every_kind_of_score(levels):
    """Exact integer counts against a direct count at every threshold."""
    rng = np.random.default_rng(0)
    continuous = rng.uniform(min(levels), max(levels), 300)
    y_score = np.concatenate([rng.choice(levels, 300), continuous])
    y = rng.random(y_score.size) < 0.3
    curve = confusion_curve(y, y_score)
    assert curve.tp.dtype.kind == "i"
    called = y_score[None, :] >= curve.thresholds[:, None]
    np.testing.assert_array_equal(curve.tp, (called & y).sum(axis=1))
    np.testing.assert_array_equal(curve.fp, (called & ~y).sum(axis=1))
    np.testing.assert_array_equal(curve.fn, (~called & y).sum(axis=1))
    np.testing.assert_array_equal(curve.tn, (~called & ~y).sum(axis=1))
    np.testing.assert_array_equal(curve.thresholds[1:], np.unique(y_score)[::-1])


def test_unweighted_counts_are_exact_integers():
    curve = confusion_curve([True, False, True], [0.2, 0.2, 0.9])
    assert curve.tp.dtype.kind == "i"
    np.testing.assert_array_equal(curve.tp, [0, 1, 2])
    np.testing.assert_array_equal(curve.fp, [0, 0, 1])


def test_cut_point_is_the_gap_midpoint_and_exact_on_adjacent_floats():
    thresholds = np.array([np.inf, 0.8, 0.4, 0.1])
    assert cut_point(thresholds, 0) > 0.8
    assert cut_point(thresholds, 0) == np.nextafter(0.8, 1)
    assert cut_point(thresholds, 1) == pytest.approx(0.6)
    assert cut_point(thresholds, 3) == 0.1
    upper = 0.3
    lower = np.nextafter(upper, 0)
    tight = np.array([np.inf, upper, lower])
    cut = cut_point(tight, 1)
    assert lower < cut <= upper


def test_huge_scores_do_not_overflow():
    big = np.finfo(float).max
    thresholds = np.array([np.inf, big, big / 2])
    assert np.isfinite(cut_point(thresholds, 1))


def test_ties_go_to_the_objectives_key_then_the_highest_threshold():
    # Precision target: two cuts with recall 1; the one with higher precision wins.
    y = np.array([1, 1, 0, 0])
    y_score = np.array([0.9, 0.8, 0.7, 0.1])
    curve = confusion_curve(y == 1, y_score)
    index = best_candidate(PrecisionTarget(0.5), curve)
    assert curve.thresholds[index] == 0.8
    # A cost with zero-weight samples between two cuts: the higher cut wins.
    w = np.array([1.0, 1.0, 0.0, 1.0])
    curve = confusion_curve(y == 1, y_score, w)
    index = best_candidate(CostMatrix([[0, 1], [1, 0]]), curve)
    assert curve.thresholds[index] == 0.8


@pytest.mark.parametrize(
    ("y_positive", "y_score", "sample_weight", "message"),
    [
        ([1, 0], [0.2, 0.4], None, "needs boolean labels .* dtype int64"),
        ([True], [0.1, 0.2, 0.3], None, r"y_positive and y_score .* \(1,\) and \(3,\)"),
        (True, [0.1, 0.2], None, r"y_positive and y_score .* \(\) and \(2,\)"),
        ([True, False], [0.1, 0.2], [1.0], r"sample_weight and y_score .* \(1,\)"),
        (
            np.array([], bool),
            [],
            None,
            r"non-empty 1-D array of scores; got shape \(0,\)",
        ),
        ([[True]], [[0.5]], None, r"non-empty 1-D .* got shape \(1, 1\)"),
    ],
)
def test_confusion_curve_rejects_mismatched_input(
    y_positive, y_score, sample_weight, message
):
    with pytest.raises(ValueError, match=message):
        confusion_curve(np.asarray(y_positive), y_score, sample_weight)
