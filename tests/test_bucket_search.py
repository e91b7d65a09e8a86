"""The least per-row cost found by bucket bounds equals the exhaustive search.

Two oracles, both independent of the library's search: brute force over every
cut (small cases, the bucket bounds called directly with few buckets), and a
numpy tally over the distinct scores (``np.unique`` and ``bincount``) for
inputs large enough that ``pick_threshold`` and the tuner take the bucketed
path. Costs are integers where ties matter, so that sums are exact and the
tie rule (the highest threshold among equal costs) is unambiguous.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedKFold

from threshold_estimators import ThresholdTunedClassifier, _best_cut, pick_threshold
from threshold_estimators._bucket_search import bucketed_contenders, order_keys
from threshold_estimators.objectives import CostMatrix

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_search import ScoreLookup

LARGE = 1 << 17  # above the bucketed path's minimum (2**16 rows)
BY_AMOUNT = CostMatrix([[0, 5], ["amount", 0]])
WITH_GAINS = CostMatrix([["legit", 5], ["amount", -50]])


def brute_costs(scores, if_positive, if_negative, weight=None):
    """Every cut (``+inf`` first, then the distinct scores, decreasing) and
    the total cost of calling ``scores >= cut`` positive."""
    weight = np.ones(scores.size) if weight is None else weight
    cuts = np.concatenate(([np.inf], np.unique(scores)[::-1]))
    totals = np.array(
        [np.sum(weight * np.where(scores >= t, if_positive, if_negative)) for t in cuts]
    )
    return cuts, totals


def tallied_costs(scores, if_positive, if_negative, weight=None):
    """The same as :func:`brute_costs` in O(n log n): per distinct score the
    costs of its rows on each side, summed over the scores above and below."""
    weight = np.ones(scores.size) if weight is None else weight
    distinct, index = np.unique(scores, return_inverse=True)
    positive_side = np.bincount(index, weight * if_positive, distinct.size)[::-1]
    negative_side = np.bincount(index, weight * if_negative, distinct.size)[::-1]
    # Cut k (k >= 1) calls the k highest distinct scores positive.
    flagged = np.concatenate(([0.0], np.cumsum(positive_side)))
    unflagged = np.concatenate((np.cumsum(negative_side[::-1])[::-1], [0.0]))
    return np.concatenate(([np.inf], distinct[::-1])), flagged + unflagged


def oracle_cut(cuts, totals, relative=1e-9):
    """The highest cut whose cost is within ``relative`` of the least."""
    best = totals.min()
    slack = relative * max(np.abs(totals).max(), 1.0)
    return cuts[np.flatnonzero(totals <= best + slack)[0]]


def fraud_rows(n, seed, *, decimals=None, weighted=None, integer=False):
    """Labels, scores, amounts and weights shaped like a fraud problem.

    With ``integer`` amounts, a third of them are 0: those frauds cost
    nothing either way, so cuts around them tie exactly.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.05).astype(int)
    scores = 1 / (1 + np.exp(-(2.5 * y - 3 + rng.standard_normal(n))))
    if decimals is not None:
        scores = np.round(scores, decimals)
    amount = np.exp(3 + rng.standard_normal(n))
    if integer:
        amount = np.ceil(amount) * (rng.random(n) > 0.3)
    weight = None
    if weighted == "real":
        weight = rng.random(n) + 0.1
    elif weighted == "zeros":
        weight = rng.random(n) * (rng.random(n) > 0.2)
    return y, scores, amount, weight


@pytest.fixture
def bucketed_calls(monkeypatch):
    """Whether each search in the test took the bucketed path (True) or
    fell back to the whole curve (False)."""
    calls = []
    original = _best_cut.bucketed_contenders

    def recording(*args, **kwargs):
        found = original(*args, **kwargs)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(_best_cut, "bucketed_contenders", recording)
    return calls


# --------------------------------------------------------------------------
# The bounds themselves, against brute force


@pytest.mark.parametrize("seed", range(300))
def test_contenders_hold_the_least_cost_and_every_tie(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    kind = seed % 4
    if kind == 0:
        scores = rng.random(n)
    elif kind == 1:  # heavy ties, negative scores, both zeros
        scores = np.round(rng.normal(size=n), int(rng.integers(0, 3)))
        scores[rng.random(n) < 0.2] = -0.0
    elif kind == 2:  # subnormal scores
        scores = rng.normal(size=n) * 1e-310
    else:  # a huge range
        scores = rng.choice([1e-300, 1e-5, 0.5, 1.0, 1e300], n) * rng.random(n)
    positive = rng.random(n) < 0.3
    gains = seed % 2 == 0
    # Integer costs: ties are exact and the tie rule is tested.
    amount = rng.integers(0, 50, n).astype(float)
    if_positive = np.where(positive, -rng.integers(0, 3, n) if gains else 0, 5.0)
    if_negative = np.where(positive, amount, -rng.integers(0, 2, n) if gains else 0)
    magnitude = np.abs(if_positive).sum() + np.abs(if_negative).sum()
    contenders = bucketed_contenders(
        scores,
        if_positive.astype(float),
        if_negative.astype(float),
        tie_ulps=16 + 4 * n,
        gain_magnitude=magnitude if gains else None,
        log2_buckets=int(rng.integers(1, 8)),
        max_sorted_share=1.0,
        min_occupied=0,
    )
    cuts, totals = brute_costs(scores, if_positive, if_negative)
    assert np.all(np.diff(contenders.thresholds) < 0)
    at = np.searchsorted(-cuts, -contenders.thresholds)
    np.testing.assert_array_equal(cuts[at], contenders.thresholds)
    np.testing.assert_array_equal(contenders.above + contenders.below, totals[at])
    ties = set(np.flatnonzero(totals == totals.min()))
    assert ties <= set(at)


def test_order_keys_order_as_the_scores_and_merge_the_two_zeros():
    rng = np.random.default_rng(0)
    scores = np.concatenate(
        (
            rng.normal(size=500) * 10.0 ** rng.integers(-310, 300, 500),
            [0.0, -0.0, np.finfo(float).max, -np.finfo(float).max, 5e-324, -5e-324],
        )
    )
    keys = order_keys(scores)
    order = np.argsort(keys, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)
    equal = scores[:, None] == scores[None, :]
    np.testing.assert_array_equal(equal, keys[:, None] == keys[None, :])


# --------------------------------------------------------------------------
# pick_threshold and the tuner on the bucketed path


@pytest.mark.parametrize("decimals", [None, 2, 4])
@pytest.mark.parametrize("weighted", [None, "real", "zeros"])
@pytest.mark.parametrize("gains", [False, True])
def test_pick_is_the_cheapest_cut(decimals, weighted, gains, bucketed_calls):
    y, scores, amount, weight = fraud_rows(
        LARGE, seed=3, decimals=decimals, weighted=weighted, integer=True
    )
    objective, metadata = BY_AMOUNT, {"amount": amount}
    if_positive, if_negative = np.where(y == 1, 0.0, 5.0), np.where(y == 1, amount, 0)
    if gains:
        legit = -np.ceil(0.02 * amount)
        objective, metadata = WITH_GAINS, {"amount": amount, "legit": legit}
        if_positive = np.where(y == 1, -50, 5.0)
        if_negative = np.where(y == 1, amount, legit)
    pick = pick_threshold(y, scores, objective, sample_weight=weight, **metadata)
    # 100 distinct scores fill too few buckets to prune: the whole curve.
    assert bucketed_calls == [decimals != 2]
    cuts, totals = tallied_costs(scores, if_positive, if_negative, weight)
    kept = np.ones(y.size, bool) if weight is None else weight > 0
    called = scores >= pick.threshold
    # The decisions of the highest cheapest cut (zero-weight rows aside).
    expected = scores >= oracle_cut(cuts, totals)
    np.testing.assert_array_equal(called[kept], expected[kept])
    total_weight = y.size if weight is None else weight.sum()
    assert pick.score == pytest.approx(-totals.min() / total_weight, rel=1e-9)
    tn, fp, fn, tp = confusion_matrix(y, called, sample_weight=weight).ravel()
    np.testing.assert_allclose([pick.tp, pick.fp, pick.tn, pick.fn], [tp, fp, tn, fn])


@pytest.mark.parametrize("seed", [10, 11])
def test_ties_go_to_the_highest_cut(seed, bucketed_calls):
    """Frauds of amount 0 just under the cheapest cut cost nothing either way:
    calling them positive ties with the cut, which must stay above them."""
    y, scores, amount, _ = fraud_rows(LARGE, seed=seed, integer=True)
    if_positive, if_negative = np.where(y == 1, 0.0, 5.0), np.where(y == 1, amount, 0)
    cuts, totals = tallied_costs(scores, if_positive, if_negative)
    best = oracle_cut(cuts, totals)
    lower = scores[scores < best].max()
    free = np.linspace(lower, best, 7)[1:-1]
    y = np.concatenate((y, np.ones(free.size, int)))
    scores = np.concatenate((scores, free))
    amount = np.concatenate((amount, np.zeros(free.size)))
    pick = pick_threshold(y, scores, BY_AMOUNT, amount=amount)
    assert bucketed_calls == [True]
    assert free.max() < pick.threshold <= best


def test_the_cut_lies_between_the_chosen_score_and_the_next_lower_one():
    y, scores, amount, _ = fraud_rows(LARGE, seed=4)
    pick = pick_threshold(y, scores, BY_AMOUNT, amount=amount)
    chosen = scores[scores >= pick.threshold].min()
    lower = scores[scores < pick.threshold].max()
    assert lower < pick.threshold <= chosen
    assert pick.threshold == pytest.approx((lower + chosen) / 2, rel=1e-15)


@pytest.mark.parametrize("factor", [3.0, 2.0**-30, 1e12])
def test_scaling_every_cost_leaves_the_cut(factor):
    y, scores, amount, weight = fraud_rows(LARGE, seed=5, weighted="real")
    legit = -0.02 * amount
    plain = pick_threshold(
        y, scores, WITH_GAINS, sample_weight=weight, amount=amount, legit=legit
    )
    scaled = pick_threshold(
        y,
        scores,
        CostMatrix([["legit", 5 * factor], ["amount", -50 * factor]]),
        sample_weight=weight,
        amount=amount * factor,
        legit=legit * factor,
    )
    assert scaled.threshold == plain.threshold
    assert scaled.score == pytest.approx(plain.score * factor, rel=1e-9)


def test_crowded_scores_fall_back_to_the_whole_curve(bucketed_calls):
    """Scores in one bucket but for an outlier: the bounds prune nothing, and
    the whole curve is searched instead, as exactly."""
    y, scores, amount, _ = fraud_rows(LARGE, seed=6)
    scores = 0.5 + scores * 1e-9
    scores[0] = 1e-300
    pick = pick_threshold(y, scores, BY_AMOUNT, amount=amount)
    assert bucketed_calls == [False]
    cuts, totals = tallied_costs(
        scores, np.where(y == 1, 0.0, 5.0), np.where(y == 1, amount, 0.0)
    )
    np.testing.assert_array_equal(
        scores >= pick.threshold, scores >= oracle_cut(cuts, totals)
    )


def test_the_whole_curve_is_built_on_demand_and_agrees():
    y, scores, amount, weight = fraud_rows(LARGE, seed=7, weighted="zeros")
    pick = pick_threshold(y, scores, BY_AMOUNT, sample_weight=weight, amount=amount)
    assert pick.search._whole is not None and callable(pick.search._whole)
    thresholds = pick.curve.thresholds
    assert thresholds[pick.index] == scores[scores >= pick.threshold].min()
    assert pick.objective_values[pick.index] == pytest.approx(pick.score, rel=1e-12)
    # No candidate of the whole curve is cheaper than the pick.
    assert np.nanmax(pick.objective_values) == pytest.approx(pick.score, rel=1e-12)
    counts = [column[pick.index] for column in pick.curve.counts]
    np.testing.assert_allclose(counts, [pick.tp, pick.fp, pick.tn, pick.fn])
    assert pick.n_candidates == np.unique(scores[weight > 0]).size
    again = pickle.loads(pickle.dumps(pick))
    assert again == pick
    np.testing.assert_array_equal(again.curve.thresholds, thresholds)


@pytest.mark.parametrize("weighted", [None, "real"])
def test_prefit_tuner_agrees_with_pick_threshold(weighted):
    y, scores, amount, weight = fraud_rows(LARGE, seed=8, weighted=weighted)
    X = np.arange(y.size).reshape(-1, 1)
    tuner = ThresholdTunedClassifier(
        ScoreLookup(scores).fit(X, y),
        objective=BY_AMOUNT,
        cv="prefit",
        store_cv_results=True,
    ).fit(X, y, sample_weight=weight, amount=amount)
    pick = pick_threshold(y, scores, BY_AMOUNT, sample_weight=weight, amount=amount)
    assert tuner.threshold_ == pick.threshold
    assert tuner.best_score_ == pick.score
    np.testing.assert_array_equal(
        tuner.cv_results_["thresholds"], pick.curve.thresholds
    )


def test_cross_validated_folds_are_each_the_cheapest_cut():
    rng = np.random.default_rng(9)
    n = 2 * LARGE
    X = rng.standard_normal((n, 3))
    y = (X[:, 0] + rng.standard_normal(n) > 2).astype(int)
    amount = np.ceil(np.exp(3 + rng.standard_normal(n)))
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    tuner = ThresholdTunedClassifier(
        LogisticRegression(), objective=BY_AMOUNT, cv=cv
    ).fit(X, y, amount=amount)
    for fold, (train, test) in enumerate(cv.split(X, y)):
        scores = LogisticRegression().fit(X[train], y[train]).predict_proba(X[test])
        cuts, totals = tallied_costs(
            scores[:, 1],
            np.where(y[test] == 1, 0.0, 5.0),
            np.where(y[test] == 1, amount[test], 0.0),
        )
        expected = scores[:, 1] >= oracle_cut(cuts, totals)
        decided = scores[:, 1] >= tuner.rule_.fold_thresholds_[fold]
        np.testing.assert_array_equal(decided, expected)
