"""Confidence-bounded precision and recall targets, and fold variability."""

import math
import warnings

import numpy as np
import pytest
from scipy.stats import beta, norm
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from threshold_estimators import (
    ThresholdTunedClassifier,
    confusion_curve,
    pick_threshold,
)
from threshold_estimators._fold_stats import spread
from threshold_estimators._selection import run_search
from threshold_estimators.objectives import (
    InfeasibleTargetError,
    PrecisionTarget,
    RecallTarget,
)
from threshold_estimators.objectives._sharp_sequence import _SHARP_SHARE, _SPAN, sharp

RULES = ["pointwise", "sharp_sequence", "fixed_sequence", "bonferroni"]


def counts(tp, fp, positives, negatives):
    tp, fp = np.asarray(tp, dtype=float), np.asarray(fp, dtype=float)
    return tp, fp, negatives - fp, positives - tp


def test_bound_is_the_clopper_pearson_quantile():
    tp, fp, tn, fn = counts([0, 1, 7, 19, 40], [0, 0, 3, 1, 25], 50, 60)
    for confidence in (0.8, 0.9, 0.99):
        alpha = 1 - confidence
        precision = PrecisionTarget(0.5, confidence=confidence)
        recall = RecallTarget(0.5, confidence=confidence)
        expected_precision = [0.0] + [
            beta.ppf(alpha, k, n - k + 1)
            for k, n in zip(tp[1:], (tp + fp)[1:], strict=True)
        ]
        expected_recall = [0.0] + [beta.ppf(alpha, k, 50 - k + 1) for k in tp[1:]]
        np.testing.assert_allclose(
            precision.lower_bound(tp, fp, tn, fn), expected_precision
        )
        np.testing.assert_allclose(recall.lower_bound(tp, fp, tn, fn), expected_recall)
    # A perfect record of n calls: the closed form alpha ** (1 / n).
    bound = PrecisionTarget(0.5, confidence=0.9).lower_bound(*counts([10], [0], 10, 10))
    assert bound[0] == pytest.approx(0.1 ** (1 / 10))


def non_monotone_curve():
    """Precision dips (a burst of false positives) then recovers."""
    hits = np.r_[np.ones(40), np.zeros(8), np.ones(60), np.zeros(40)]
    tp = np.r_[0, np.cumsum(hits)]
    fp = np.r_[0, np.cumsum(1 - hits)]
    return counts(tp, fp, positives=100, negatives=48)


def brute_force_feasible(tp, fp, target, alpha, rule):
    """Independent reading of each selection rule, one candidate at a time."""
    n = len(tp)
    bound = np.array(
        [
            beta.ppf(alpha, k, c - k + 1) if k > 0 else 0.0
            for k, c in zip(tp, tp + fp, strict=True)
        ]
    )
    if rule == "pointwise":
        return bound >= target
    if rule == "fixed_sequence":
        feasible = np.zeros(n, dtype=bool)
        start = next(
            i for i in range(n) if tp[i] + fp[i] >= np.log(alpha) / np.log(target)
        )
        for i in range(start, n):
            if bound[i] < target:
                break
            feasible[i] = True
        return feasible
    if rule == "sharp_sequence":
        # A candidate is tested when a sharp number of calls lies between the
        # previous candidate's and its own (ties: several at once; a step of
        # more than _SPAN calls once a perfect record could pass).
        feasible = np.zeros(n, dtype=bool)
        previous = 0
        for i in range(n):
            calls = int(tp[i] + fp[i])
            if calls - previous > _SPAN:
                tested = calls >= np.log(alpha) / np.log(target)
            else:
                numbers = range(previous + 1, calls + 1)
                tested = any(sharp_by_hand(m, target, alpha) for m in numbers)
            previous = calls
            if not tested:
                continue
            if bound[i] < target:
                break
            feasible[: i + 1] = True  # and every cut above it
        return feasible & (tp > 0)
    raise AssertionError(rule)


def sharp_by_hand(n, target, alpha):
    """Whether the bound's test on n trials is sharp, from its definition: the
    fewest successes whose Clopper–Pearson bound reaches the target, and the
    binomial probability of at least that many at the target, summed term by
    term."""
    passing = [k for k in range(1, n + 1) if beta.ppf(alpha, k, n - k + 1) >= target]
    if not passing:
        return False
    size = sum(
        math.comb(n, j) * target**j * (1 - target) ** (n - j)
        for j in range(passing[0], n + 1)
    )
    return size >= _SHARP_SHARE * alpha


@pytest.mark.parametrize("target", [0.5, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_sharp_numbers_of_trials_match_their_definition(target, alpha):
    trials = np.arange(0, 161)
    expected = [sharp_by_hand(n, target, alpha) for n in trials]
    np.testing.assert_array_equal(sharp(trials, target, alpha), expected)
    if target == 0.9 and alpha == 0.1:
        # The sawtooth: 22 trials (a perfect record), then not again until
        # one miss is allowed, at 38.
        assert sharp(np.array([22, 30, 37, 38]), target, alpha).tolist() == [
            True,
            False,
            False,
            True,
        ]


@pytest.mark.parametrize("rule", ["sharp_sequence", "fixed_sequence", "pointwise"])
def test_selection_rules_on_a_non_monotone_curve(rule):
    tp, fp, tn, fn = non_monotone_curve()
    objective = PrecisionTarget(0.85, confidence=0.9, selection=rule)
    feasible = objective.feasible(tp, fp, tn, fn)
    np.testing.assert_array_equal(
        feasible, brute_force_feasible(tp, fp, 0.85, 0.1, rule)
    )
    calls = tp + fp
    if rule != "pointwise":
        # The dip stops the sequence: nothing after it, however good.
        assert feasible.any()
        assert calls[feasible].max() < 48
    else:
        # Pointwise takes the recovered stretch past the dip.
        assert calls[feasible].max() > 48


def test_bonferroni_uses_a_fixed_grid_and_a_split_level():
    tp, fp, tn, fn = non_monotone_curve()
    objective = PrecisionTarget(0.8, confidence=0.9, selection="bonferroni")
    feasible = objective.feasible(tp, fp, tn, fn)
    calls = tp + fp
    # 20 call counts, geometric from the fewest where a perfect record clears
    # the bound at alpha / 20, to all calls.
    first = np.log(0.1 / 20) / np.log(0.8)
    levels = first * (calls[-1] / first) ** (np.arange(20) / 19)
    grid = {int(np.argmax(calls >= level - 1e-9)) for level in levels}
    assert feasible.any()
    assert set(np.flatnonzero(feasible)) <= grid
    for index in grid:
        k, n = tp[index], calls[index]
        expected = k > 0 and beta.ppf(0.1 / 20, k, n - k + 1) >= 0.8
        assert feasible[index] == expected


def test_recall_sequence_starts_from_every_sample_positive():
    tp, fp, tn, fn = non_monotone_curve()
    feasible = RecallTarget(0.9, confidence=0.9).feasible(tp, fp, tn, fn)
    bound = np.array([beta.ppf(0.1, k, 100 - k + 1) if k else 0 for k in tp])
    # A suffix: the lowest thresholds, up to the first failing bound from the end.
    last_failure = np.flatnonzero(bound < 0.9).max()
    np.testing.assert_array_equal(feasible, np.arange(len(tp)) > last_failure)


def test_point_mode_is_unchanged_without_confidence():
    tp, fp, tn, fn = non_monotone_curve()
    for rule in RULES:
        objective = PrecisionTarget(0.85, selection=rule)
        precision = np.divide(tp, tp + fp, out=np.full(tp.shape, np.nan), where=tp > 0)
        np.testing.assert_array_equal(
            objective.feasible(tp, fp, tn, fn), precision >= 0.85
        )


def gaussian_scores(n, rng, prevalence=0.2, shift=2.0):
    y = (rng.random(n) < prevalence).astype(int)
    return y, rng.normal(size=n) + shift * y


def true_precision(cut, prevalence=0.2, shift=2.0):
    positives = prevalence * norm.sf(cut - shift)
    return positives / (positives + (1 - prevalence) * norm.sf(cut))


@pytest.mark.parametrize("rule", RULES)
def test_coverage_reaches_the_nominal_level(rule):
    """100 seeded repetitions: the true precision of the selected cut (closed
    form) reaches the target at least ~90 % of the time. With 100 draws the
    binomial standard deviation at 0.9 is 0.03; 0.83 allows 2.3 of them."""
    rng = np.random.default_rng(0)
    objective = PrecisionTarget(0.85, confidence=0.9, selection=rule)
    covered, point_covered = [], []
    for _ in range(100):
        y, scores = gaussian_scores(2000, rng)
        for target_objective, out in (
            (objective, covered),
            (PrecisionTarget(0.85), point_covered),
        ):
            try:
                curve, _, best = run_search(
                    target_objective, y, scores, None, pos_label=1, classes=[0, 1]
                )
            except InfeasibleTargetError:
                out.append(True)
                continue
            out.append(true_precision(curve.thresholds[best]) >= 0.85)
    assert np.mean(covered) >= 0.83
    # The point version promises nothing: it misses far more often.
    assert np.mean(point_covered) < np.mean(covered)


def test_infeasible_bound_states_what_was_reachable():
    tp, fp, tn, fn = counts([0, 5, 9], [0, 0, 1], 10, 10)
    objective = PrecisionTarget(0.9, confidence=0.9)
    with pytest.raises(InfeasibleTargetError, match="best lower bound reachable is"):
        objective.fallback(tp, fp, tn, fn)
    with pytest.warns(UserWarning, match="highest bound"):
        index = PrecisionTarget(0.9, confidence=0.9, on_infeasible="warn").fallback(
            tp, fp, tn, fn
        )
    bounds = objective.lower_bound(tp, fp, tn, fn)
    assert index == int(np.argmax(bounds))


def test_fixed_sequence_failure_says_the_sequence_stopped():
    tp, fp, tn, fn = counts([0, 20, 20, 200], [0, 1, 3, 3], 250, 50)
    objective = PrecisionTarget(0.9, confidence=0.9, selection="fixed_sequence")
    assert objective.lower_bound(tp, fp, tn, fn).max() >= 0.9
    with pytest.raises(InfeasibleTargetError, match="fixed sequence"):
        objective.fallback(tp, fp, tn, fn)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": 0.0}, "confidence"),
        ({"selection": "holm"}, "selection"),
    ],
)
def test_bad_confidence_parameters(params, message):
    X, y = make_classification(100, random_state=0)
    with pytest.raises(ValueError, match=message):
        ThresholdTunedClassifier(
            LogisticRegression(), objective=PrecisionTarget(0.8, **params)
        ).fit(X, y)


@pytest.mark.parametrize("rule", RULES)
def test_estimator_with_confidence_meets_the_bound_out_of_fold(rule):
    X, y = make_classification(1500, weights=[0.7], flip_y=0, random_state=0)
    cv = StratifiedKFold(5)
    tuned = ThresholdTunedClassifier(
        LogisticRegression(),
        objective=PrecisionTarget(0.8, confidence=0.95, selection=rule),
        cv=cv,
        store_cv_results=True,
    ).fit(X, y)
    oof = cross_val_predict(LogisticRegression(), X, y, cv=cv, method="predict_proba")
    called = oof[:, 1] >= tuned.threshold_
    tp, calls = np.sum(called & (y == 1)), np.sum(called)
    assert beta.ppf(0.05, tp, calls - tp + 1) >= 0.8
    point = ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.8), cv=cv
    ).fit(X, y)
    # The bound costs recall: the confident cut is no lower than the point one.
    assert tuned.threshold_ >= point.threshold_
    assert precision_score(y, called) >= 0.8


def test_threshold_std_and_fold_curves():
    X, y = make_classification(800, weights=[0.7], random_state=1)
    cv = StratifiedKFold(4)
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective="f1", cv=cv, store_cv_results=True
    ).fit(X, y)
    results = tuned.cv_results_
    assert tuned.threshold_std_ == pytest.approx(np.std(results["fold_thresholds"]))
    assert results["fold_threshold_std"] == tuned.threshold_std_
    oof = cross_val_predict(LogisticRegression(), X, y, cv=cv, method="predict_proba")
    for (_, test), curve in zip(cv.split(X, y), results["fold_curves"], strict=True):
        scores, labels = oof[test, 1], y[test]
        for index in (1, len(curve["thresholds"]) // 2, len(curve["thresholds"]) - 1):
            called = scores >= curve["thresholds"][index]
            assert curve["precision"][index] == pytest.approx(
                precision_score(labels, called)
            )
            assert curve["recall"][index] == pytest.approx(recall_score(labels, called))
    # Without stored results the spread is still there.
    plain = ThresholdTunedClassifier(LogisticRegression(), cv=cv).fit(X, y)
    assert plain.threshold_std_ == tuned.threshold_std_


def test_threshold_std_per_class_and_prefit():
    X, y = make_classification(900, n_classes=3, n_informative=5, random_state=0)
    tuned = ThresholdTunedClassifier(LogisticRegression(), cv=3).fit(X, y)
    assert tuned.threshold_std_.shape == (3,)
    assert np.all(tuned.threshold_std_ >= 0)
    fitted = LogisticRegression().fit(X, y == 1)
    prefit = ThresholdTunedClassifier(fitted, cv="prefit").fit(X, y == 1)
    assert np.isnan(prefit.threshold_std_)


def test_bonferroni_recall_grid_includes_every_sample_positive():
    """Recall 1 (every sample positive) is the best-bounded candidate: on the grid."""
    y = np.r_[np.ones(400), np.zeros(50)].astype(bool)
    scores = np.r_[np.linspace(1, 0.6, 399), [0.0], np.linspace(0.5, 0.1, 50)]
    curve = confusion_curve(y, scores)
    objective = RecallTarget(0.985, confidence=0.9, selection="bonferroni")
    last = len(curve.thresholds) - 1
    tp = curve.tp[last]
    assert beta.ppf(0.1 / 20, tp, 400 - tp + 1) >= 0.985
    assert objective.feasible(*curve.counts)[last]


def test_fold_without_weight_and_folds_without_threshold():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + rng.normal(size=300) > 0.3).astype(int)
    weight = np.ones(300)
    weight[:100] = 0  # the first of three unshuffled folds weighs nothing
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), cv=KFold(3), store_cv_results=True
    ).fit(X, y, sample_weight=weight)
    assert np.isnan(tuned.cv_results_["fold_thresholds"][0])
    assert tuned.cv_results_["fold_curves"][0] is None
    assert np.isfinite(tuned.threshold_std_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(spread([np.nan, np.nan]))
        np.testing.assert_array_equal(
            spread([[np.nan, 1.0], [np.nan, 3.0]]), [np.nan, 1.0]
        )


@pytest.mark.parametrize("seed", range(6))
def test_sharp_sequence_pick_equals_brute_force(seed):
    """The whole search with the sharp sequence against the curve built by
    hand, every distinct score a candidate (ties on odd seeds)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(600) < 0.3).astype(int)
    scores = np.round(rng.normal(2.5 * y, 1.0), 1 if seed % 2 else 6)
    target = (0.7, 0.8, 0.9)[seed % 3]
    objective = PrecisionTarget(target, confidence=0.9, selection="sharp_sequence")
    thresholds = np.unique(scores)[::-1]
    tp = np.array([np.sum((scores >= t) & (y == 1)) for t in thresholds])
    fp = np.array([np.sum((scores >= t) & (y == 0)) for t in thresholds])
    feasible = brute_force_feasible(tp, fp, target, 0.1, "sharp_sequence")
    assert feasible.any() and not feasible.all()
    # The most recall, then the fewest false positives (the higher threshold).
    best = np.flatnonzero(feasible & (tp == tp[feasible].max()))[0]
    pick = pick_threshold(y, scores, objective)
    assert (pick.tp, pick.fp) == (tp[best], fp[best])
    # The cut keeps exactly those calls.
    assert np.count_nonzero(scores >= pick.threshold) == tp[best] + fp[best]


def test_sharp_sequence_keeps_its_level_where_pointwise_does_not():
    """Labels independent of the scores, positive with probability 0.88: every
    cut's true precision is 0.88, below the target 0.9, so every cut selected
    breaks the promise. The sharp sequence claims one in at most alpha of the
    draws (up to three binomial standard errors); the pointwise rule, which
    takes any cut whose own bound passes, claims more often than alpha allows."""
    rng = np.random.default_rng(11)
    repeats = 1000
    claimed = {"sharp_sequence": 0, "pointwise": 0}
    for _ in range(repeats):
        y = (rng.random(300) < 0.88).astype(int)
        scores = rng.random(300)
        for rule in claimed:
            objective = PrecisionTarget(0.9, confidence=0.9, selection=rule)
            try:
                pick_threshold(y, scores, objective)
            except InfeasibleTargetError:
                continue
            claimed[rule] += 1
    margin = 3 * np.sqrt(0.1 * 0.9 / repeats)
    assert claimed["sharp_sequence"] / repeats <= 0.1 + margin
    assert claimed["pointwise"] / repeats > 0.1 + margin


def test_sharp_sequence_for_recall_is_the_fixed_sequence():
    """Recall's bound has the positives as trials at every candidate: no test
    is sharper than another, and the two sequences agree."""
    rng = np.random.default_rng(3)
    y = (rng.random(800) < 0.4).astype(int)
    scores = rng.normal(y, 1.0)
    picks = [
        pick_threshold(y, scores, RecallTarget(0.8, confidence=0.9, selection=rule))
        for rule in ("sharp_sequence", "fixed_sequence")
    ]
    assert picks[0].threshold == picks[1].threshold


def test_bounds_skipped_where_hoeffding_already_passes_agree_with_the_quantile():
    """Candidates whose Hoeffding bound clears the target are passed without
    the Clopper–Pearson quantile; the result is the quantile's everywhere."""
    rng = np.random.default_rng(4)
    hits = rng.random(5000) < 0.93
    tp, fp = np.r_[0, np.cumsum(hits)], np.r_[0, np.cumsum(~hits)]
    tp, fp, tn, fn = counts(tp, fp, positives=tp[-1], negatives=fp[-1])
    objective = PrecisionTarget(0.85, confidence=0.9, selection="pointwise")
    rate = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
    skipped = objective._surely_passes((tp, fp, tn, fn), rate, 0.85)
    assert skipped.sum() > 4000
    np.testing.assert_array_equal(
        objective.feasible(tp, fp, tn, fn),
        brute_force_feasible(tp, fp, 0.85, 0.1, "pointwise") & (tp > 0),
    )


def test_weighted_trials_reach_a_sharp_number_before_it_is_tested():
    """Kish's effective trials are fractional: one top row weighing 1.5 makes
    the top 22 rows worth 21.77 trials, where a perfect record's bound (0.8996)
    misses 0.9. Tested as 22 (rounded to the nearest), that test failed and
    stopped the sequence before 200 perfect calls; the test falls to the first
    candidate whose effective trials reach 22."""
    y = np.r_[np.ones(200, dtype=int), np.zeros(200, dtype=int)]
    scores = -np.arange(400.0)
    weight = np.ones(400)
    weight[0] = 1.5
    objective = PrecisionTarget(0.9, confidence=0.9)
    pick = pick_threshold(y, scores, objective, sample_weight=weight)
    assert (pick.tp, pick.fp) == (200.5, 0.0)


def test_constant_weights_pick_what_no_weights_pick():
    """Effective trials of constant weights round to 21.999... for 22 rows:
    read as 22, the sharp sequence tests what it tests without weights."""
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.4).astype(int)
    scores = rng.normal(2 * y, 1.0)
    objective = PrecisionTarget(0.9, confidence=0.9)
    plain = pick_threshold(y, scores, objective)
    for weight in (0.1, 0.3, 7.0):
        weighted = pick_threshold(
            y, scores, objective, sample_weight=np.full(2000, weight)
        )
        assert weighted.threshold == plain.threshold
        assert weighted.tp == pytest.approx(plain.tp * weight)


def test_a_long_tie_is_tested_once_a_perfect_record_could_pass():
    """260 positives tied at the top, then 1,000 negatives: the tie adds 260
    calls at once, past the sharp numbers 230-239 of p = 0.99; it is tested
    (and passes) rather than skipped."""
    y = np.r_[np.ones(260, dtype=int), np.zeros(1000, dtype=int)]
    scores = np.r_[np.ones(260), np.linspace(0, 0.5, 1000)]
    pick = pick_threshold(y, scores, PrecisionTarget(0.99, confidence=0.9))
    assert (pick.tp, pick.fp) == (260, 0)
