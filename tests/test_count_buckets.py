"""The bucketed search of count objectives equals the whole-curve search.

An independent tally (``np.unique`` and ``np.bincount``, the objective's
formula written out here) is the oracle; the whole curve must agree too, to
the bit on exact counts.
"""

import numpy as np
import pytest

from threshold_estimators import pick_threshold
from threshold_estimators._best_cut import _best_counts_by_buckets
from threshold_estimators._selection import prepare, run_search
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FBeta,
    PrecisionTarget,
    RecallTarget,
)

CLASSES = np.array([False, True])


def tally(y, score, weight):
    """Every distinct score as a cut, highest first: (cut, tp, fp, P, N)."""
    weight = np.ones(y.size) if weight is None else weight
    kept = weight > 0
    y, score, weight = y[kept], score[kept], weight[kept]
    cuts, inverse = np.unique(score, return_inverse=True)
    positive = np.bincount(inverse, np.where(y, weight, 0.0))[::-1]
    negative = np.bincount(inverse, np.where(y, 0.0, weight))[::-1]
    return (
        cuts[::-1],
        np.cumsum(positive),
        np.cumsum(negative),
        positive.sum(),
        negative.sum(),
    )


def oracle_cut(objective, y, score, weight):
    cuts, tp, fp, P, _ = tally(y, score, weight)
    fn = P - tp
    if isinstance(objective, CostMatrix):
        (c_tn, c_fp), (c_fn, c_tp) = objective.matrix
        tn = fp[-1] - fp
        value = -(c_tn * tn + c_fp * fp + c_fn * fn + c_tp * tp) / (P + fp[-1])
        feasible = np.ones(cuts.size, bool)
    elif isinstance(objective, (F1, FBeta)):
        b2 = objective.beta**2 if isinstance(objective, FBeta) else 1.0
        value = (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp)
        feasible = np.ones(cuts.size, bool)
    else:
        precision, recall = tp / (tp + fp), tp / P
        if isinstance(objective, PrecisionTarget):
            feasible, value = precision >= objective.min_precision, recall
        else:
            feasible, value = recall >= objective.min_recall, precision
    value = np.where(feasible, value, -np.inf)
    best = value.max()
    # Ties within rounding go to the highest cut (the first).
    return cuts[np.flatnonzero(value >= best - 1e-12 * max(abs(best), 1))[0]]


def draw(seed, n, ties, weights):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < rng.choice([0.03, 0.15, 0.5])
    score = rng.normal(size=n) + 2 * y
    if ties:
        score = np.round(score, 4)  # half the rows share their score
    weight = None
    if weights == "real":
        weight = rng.exponential(size=n)
    elif weights == "integer":
        weight = rng.integers(1, 4, n).astype(float)
        weight[rng.random(n) < 0.05] = 0.0  # left out, as if absent
    return y, score, weight


OBJECTIVES = [
    F1(),
    FBeta(0.5),
    FBeta(3),
    PrecisionTarget(0.9),
    RecallTarget(0.8),
    CostMatrix([[0, 1], [5, 0]]),
    CostMatrix([[-1, 2], [4, 0.5]]),  # a gain for the right calls
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weights", [None, "real", "integer"])
@pytest.mark.parametrize("ties", [False, True])
def test_bucketed_cut_is_the_whole_curve_cut(seed, weights, ties):
    n = (1 << 16) + 5000 + 1000 * seed
    y, score, weight = draw(seed, n, ties, weights)
    for objective in OBJECTIVES:
        assert_bucketed_is_exact(objective, y, score, weight, exact=weights != "real")


def assert_bucketed_is_exact(objective, y, score, weight, *, exact):
    """The bucketed path is taken, and its cut, the score under it and its
    counts are the whole curve's (and the cut the oracle's); ``exact``:
    counts equal to the bit, else within a 1e-12 share of the total."""
    prepared = prepare(objective, y, score, weight, pos_label=True, classes=CLASSES)
    found = _best_counts_by_buckets(prepared)
    assert found is not None, "the bucketed path was not taken"
    curve, _, index = run_search(
        objective, y, score, weight, pos_label=True, classes=CLASSES
    )
    assert found.threshold == curve.thresholds[index]
    assert found.threshold == oracle_cut(objective, y, score, weight)
    below = curve.thresholds[index + 1 :][:1]
    assert found.lower == (below[0] if below.size else None)
    expected = [column[index] for column in curve.counts]
    if exact:
        assert found.counts == tuple(expected)
    else:
        total = weight.sum()
        np.testing.assert_allclose(found.counts, expected, rtol=0, atol=1e-12 * total)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("weights", [None, "real", "integer"])
def test_heavily_tied_scores_are_bucketed_and_exact(seed, weights):
    """Scores of a few thousand values, tens to hundreds of rows each
    (rounded model outputs): buckets near the optimum hold one score, which
    no zoom splits. Those buckets hold no cut but their edges, so the
    bucketed path is still taken, and its cut is the oracle's."""
    rng = np.random.default_rng(seed)
    n = 1 << 18
    y, score, weight = draw(seed, n, ties=False, weights=weights)
    score = np.round(score, 3)
    # Part of the rows keep distinct scores: buckets of one score and
    # buckets of many sit side by side.
    distinct = rng.random(n) < [0.0, 0.01, 0.2, 0.5][seed]
    score[distinct] += rng.uniform(-5e-4, 5e-4, np.count_nonzero(distinct))
    for objective in OBJECTIVES:
        assert_bucketed_is_exact(objective, y, score, weight, exact=weights != "real")


@pytest.mark.parametrize("weights", [None, "real"])
def test_a_near_tie_of_costs_is_decided_as_the_whole_curve_decides(weights):
    """Costs within rounding of each other are ties, relative to the largest
    cost of the whole curve, which may lie at a cut the buckets never
    evaluate: the bucketed search must still choose the whole curve's cut
    (here the higher of two cuts 2**-40 apart in cost)."""
    rng = np.random.default_rng(1)
    n = 130_000
    tops, bottoms = rng.uniform(0.8, 1, 1000), rng.uniform(0, 0.1, n)
    score = np.r_[tops, bottoms, 0.5, np.nextafter(0.5, 0), 0.3]
    y = np.r_[np.ones(1000, bool), np.zeros(n, bool), True, False, True]
    weight = None if weights is None else rng.uniform(0.999999, 1.000001, y.size)
    objective = CostMatrix([[0, 1], [1 + 2**-40, 0]])
    pick = pick_threshold(y, score, objective, sample_weight=weight)
    curve, _, index = run_search(
        objective, y, score, weight, pos_label=True, classes=CLASSES
    )
    assert pick.threshold == curve.thresholds[index]


def test_confidence_bound_pointwise_is_bucketed_and_exact():
    y, score, _ = draw(7, 1 << 17, ties=False, weights=None)
    objective = PrecisionTarget(0.85, confidence=0.9, selection="pointwise")
    prepared = prepare(objective, y, score, None, pos_label=True, classes=CLASSES)
    found = _best_counts_by_buckets(prepared)
    curve, _, index = run_search(
        objective, y, score, None, pos_label=True, classes=CLASSES
    )
    assert found is not None and found.threshold == curve.thresholds[index]


@pytest.mark.parametrize(
    "objective",
    [
        PrecisionTarget(0.85, confidence=0.9),
        PrecisionTarget(0.85, confidence=0.9, selection="fixed_sequence"),
        PrecisionTarget(0.85, confidence=0.9, selection="bonferroni"),
    ],
)
def test_rules_judging_a_cut_by_others_use_the_whole_curve(objective):
    y, score, _ = draw(8, 1 << 17, ties=False, weights=None)
    prepared = prepare(objective, y, score, None, pos_label=True, classes=CLASSES)
    assert _best_counts_by_buckets(prepared) is None


def test_pick_reports_the_whole_curve_on_demand():
    y, score, _ = draw(9, 1 << 17, ties=True, weights=None)
    pick = pick_threshold(y, score, "f1")
    assert pick.curve.thresholds[pick.index] >= pick.threshold
    assert pick.objective_values[pick.index] == pick.score


def test_an_infeasible_target_still_raises_the_whole_curve_error():
    rng = np.random.default_rng(10)
    y, score = rng.random(1 << 17) < 0.5, rng.normal(size=1 << 17)  # no signal
    with pytest.raises(ValueError, match="best lower bound reachable"):
        pick_threshold(y, score, PrecisionTarget(0.9, confidence=0.9))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ties", [False, True])
def test_class_totals_from_the_weights_check_are_the_searchs_own(
    seed, ties, monkeypatch
):
    """The prefit tuner and pick_threshold hand the search the class totals
    their weights' check summed (one bincount over the class indices); the
    search's own sum runs over the boolean labels. Both add the rows in
    order, so every result is the same to the bit, with any labels."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    from threshold_estimators import ThresholdTunedClassifier

    n = (1 << 17) + 1000 * seed
    y, score, weight = draw(seed, n, ties, "real")
    labels = np.where(y, "spam", "ham")  # positive last, as the classes sort
    for objective in OBJECTIVES:
        prepared = prepare(objective, y, score, weight, pos_label=True, classes=CLASSES)
        own = _best_counts_by_buckets(prepared)
        assert own is not None
        pick = pick_threshold(labels, score, objective, sample_weight=weight)
        found = pick.search
        assert (found.threshold, found.lower) == (own.threshold, own.lower)
        assert found.value == own.value
        assert found.counts == own.counts
    # The tuner: totals from fit's weights' check, one class per column.
    from threshold_estimators import _best_cut

    handed = []

    def recording_prepare(*args, **kwargs):
        handed.append(kwargs.get("binary_totals"))
        return prepare(*args, **kwargs)

    monkeypatch.setattr(_best_cut, "prepare", recording_prepare)
    X = np.column_stack((score, -score))
    model = LogisticRegression().fit(X[:2000], y[:2000])
    tuned = ThresholdTunedClassifier(
        FrozenEstimator(model), objective="f1", cv="prefit"
    ).fit(X, y, sample_weight=weight)
    proba = model.predict_proba(X)[:, 1]
    own = _best_counts_by_buckets(
        prepare(F1(), y, proba, weight, pos_label=True, classes=CLASSES)
    )
    assert handed and handed[0] is not None  # handed down, not summed again
    assert tuned.best_score_ == own.value
    assert tuned.rule_.counts_ == dict(
        zip(("tp", "fp", "tn", "fn"), own.counts, strict=True)
    )
