"""AlertBudget against a brute force over every cut, written with numpy and scipy.

For every distinct score ``t`` (a non-empty set of flagged rows ``score >= t``)
the oracle computes the weighted flagged rate, recall and precision directly;
among the cuts within the budget (and the floors), the best recall wins, and
among equal recalls the fewest flags.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators.objectives import AlertBudget, InfeasibleTargetError

TOL = 1e-12

# ---------------------------------------------------------------------------
# The oracle


def cut_table(positive, scores, weight=None):
    """One record per non-empty cut, from the highest score down."""
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    weight = np.ones(scores.size) if weight is None else np.asarray(weight, float)
    total, total_positive = weight.sum(), weight[positive].sum()
    table = []
    for t in np.unique(scores)[::-1]:
        flagged = scores >= t
        flagged_weight = weight[flagged].sum()
        tp = weight[flagged & positive].sum()
        table.append(
            {
                "cut": t,
                "flagged": flagged,
                "k": int(flagged.sum()),
                "rate": flagged_weight / total,
                "recall": tp / total_positive,
                "precision": tp / flagged_weight,
            }
        )
    return table


def within_budget(record, budget, n, confidence=None):
    if confidence is None:
        return record["rate"] <= budget * (1 + TOL)
    k = record["k"]
    upper = 1.0 if k == n else beta.ppf(confidence, k + 1, n - k)
    return upper <= budget * (1 + TOL)


def floors_met(record, min_precision=None, min_recall=None):
    if min_precision is not None and record["precision"] < min_precision * (1 - TOL):
        return False
    return not (min_recall is not None and record["recall"] < min_recall * (1 - TOL))


def best_of(records):
    """The best recall, then the fewest flags (records run from fewest flags)."""
    if not records:
        return None
    best = max(r["recall"] for r in records)
    return next(r for r in records if r["recall"] >= best - TOL)


def oracle(
    positive,
    scores,
    budget,
    weight=None,
    min_precision=None,
    min_recall=None,
    confidence=None,
):
    n = len(scores)
    table = cut_table(positive, scores, weight)
    return best_of(
        [
            r
            for r in table
            if within_budget(r, budget, n, confidence)
            and floors_met(r, min_precision, min_recall)
        ]
    )


def check_pick(pick, positive, scores, expected, weight=None):
    """The pick flags exactly the oracle's rows, and reports their numbers."""
    flagged = np.asarray(scores) >= pick.threshold
    np.testing.assert_array_equal(flagged, expected["flagged"])
    assert pick.recall == pytest.approx(expected["recall"], rel=1e-9)
    assert pick.positive_rate == pytest.approx(expected["rate"], rel=1e-9)
    assert pick.recall == pytest.approx(
        recall_score(positive, flagged, sample_weight=weight), rel=1e-9
    )
    assert pick.precision == pytest.approx(
        precision_score(positive, flagged, sample_weight=weight), rel=1e-9
    )
    w = np.ones(len(scores)) if weight is None else np.asarray(weight)
    assert pick.tp + pick.fp == pytest.approx(w[flagged].sum(), rel=1e-9)
    total = pick.tp + pick.fp + pick.tn + pick.fn
    assert total == pytest.approx(w.sum(), rel=1e-9)


def scored(n=400, seed=0, decimals=None, prevalence=0.2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    scores = rng.normal(size=n) + 1.5 * y
    if decimals is not None:
        scores = np.round(scores, decimals)  # heavy ties
    return rng, y, scores


def weights_for(kind, rng, n):
    return {
        "none": None,
        "random": rng.random(n) * 4 + 0.05,
        "integer": rng.integers(1, 5, n).astype(float),
    }[kind]


# ---------------------------------------------------------------------------
# The budget alone


@pytest.mark.parametrize("budget", [0.05, 0.1, 0.3])
@pytest.mark.parametrize("decimals", [None, 1, 2])
@pytest.mark.parametrize("weights", ["none", "random", "integer"])
@pytest.mark.parametrize("seed", [0, 1])
def test_budget_flags_the_brute_force_best(budget, decimals, weights, seed):
    rng, y, scores = scored(n=300, seed=seed, decimals=decimals)
    weight = weights_for(weights, rng, y.size)
    expected = oracle(y == 1, scores, budget, weight)
    if expected is None:
        with pytest.raises(InfeasibleTargetError):
            pick_threshold(y, scores, AlertBudget(budget), sample_weight=weight)
        return
    pick = pick_threshold(y, scores, AlertBudget(budget), sample_weight=weight)
    check_pick(pick, y == 1, scores, expected, weight)
    assert pick.positive_rate <= budget * (1 + TOL)


@st.composite
def tied_rows(draw):
    n = draw(st.integers(2, 40))
    levels = draw(st.integers(1, 6))
    scores = np.array(draw(st.lists(st.integers(0, levels), min_size=n, max_size=n)))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[:2] = [0, 1]
    weighted = draw(st.booleans())
    weight = (
        np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)), float)
        if weighted
        else None
    )
    budget = draw(st.sampled_from([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.75, 1.0]))
    return y, scores / levels, weight, budget


@settings(max_examples=200, deadline=None)
@given(tied_rows())
def test_budget_is_exact_on_heavy_ties(rows):
    y, scores, weight, budget = rows
    expected = oracle(y == 1, scores, budget, weight)
    if expected is None:
        with pytest.raises(InfeasibleTargetError):
            pick_threshold(y, scores, AlertBudget(budget), sample_weight=weight)
        return
    pick = pick_threshold(y, scores, AlertBudget(budget), sample_weight=weight)
    check_pick(pick, y == 1, scores, expected, weight)


def test_equal_recalls_go_to_the_fewest_flags():
    # Recall 2/2 is reached at 0.8 (2 flags) and stays at 0.5 (4 flags).
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.0])
    pick = pick_threshold(y, scores, AlertBudget(0.4))
    np.testing.assert_array_equal(scores >= pick.threshold, scores >= 0.8)
    assert (pick.tp, pick.fp) == (2, 0)
    assert pick.positive_rate == pytest.approx(0.2)


def test_the_budget_is_the_weighted_share_of_rows():
    # Unweighted, 2 of 10 rows fit a 0.2 budget; with the first row weighing 9
    # of 18, flagging it alone is 0.5 of the weight.
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    scores = np.linspace(1, 0, 10)
    weight = np.array([9.0] + [1.0] * 9)
    assert pick_threshold(y, scores, AlertBudget(0.2)).tp == 2
    with pytest.raises(InfeasibleTargetError):
        pick_threshold(y, scores, AlertBudget(0.2), sample_weight=weight)
    pick = pick_threshold(y, scores, AlertBudget(0.56), sample_weight=weight)
    assert pick.positive_rate == pytest.approx(10 / 18)
    assert pick.tp == 10.0


@pytest.mark.parametrize("seed", [0, 5])
def test_string_labels_with_a_named_positive_class(seed):
    rng, y01, scores = scored(n=400, seed=seed, decimals=1)
    y = np.where(y01 == 1, "fraud", "ok")
    weight = rng.random(y.size) + 0.5
    budget = 0.15
    pick = pick_threshold(
        y, scores, AlertBudget(budget), pos_label="fraud", sample_weight=weight
    )
    assert pick.pos_label == "fraud"
    expected = oracle(y == "fraud", scores, budget, weight)
    check_pick(pick, y == "fraud", scores, expected, weight)


def test_the_first_class_as_positive_reads_its_own_scores():
    _rng, y01, scores = scored(n=300, seed=3, decimals=2)
    y = np.where(y01 == 1, "a_fraud", "b_ok")  # the positive class sorts first
    pick = pick_threshold(y, scores, AlertBudget(0.1), pos_label="a_fraud")
    expected = oracle(y == "a_fraud", scores, 0.1)
    check_pick(pick, y == "a_fraud", scores, expected)


def test_minus_one_one_labels():
    _rng, y01, scores = scored(n=300, seed=8, decimals=2)
    y = np.where(y01 == 1, 1, -1)
    pick = pick_threshold(y, scores, AlertBudget(0.12))
    check_pick(pick, y == 1, scores, oracle(y == 1, scores, 0.12))


def test_a_full_budget_flags_every_positive_with_the_fewest_rows():
    _rng, y, scores = scored(n=200, seed=2, decimals=2)
    pick = pick_threshold(y, scores, AlertBudget(1.0))
    assert pick.recall == 1.0
    assert pick.threshold <= scores[y == 1].min()
    assert np.all(scores[scores >= pick.threshold] >= scores[y == 1].min())


# ---------------------------------------------------------------------------
# Floors


@pytest.mark.parametrize(
    ("min_precision", "min_recall"),
    [(0.5, None), (0.7, None), (0.85, None), (None, 0.2), (None, 0.4), (0.6, 0.3)],
)
@pytest.mark.parametrize("budget", [0.1, 0.2, 0.4])
@pytest.mark.parametrize("weights", ["none", "random"])
def test_floors_are_brute_forced(min_precision, min_recall, budget, weights):
    rng, y, scores = scored(n=400, seed=13, decimals=2)
    weight = weights_for(weights, rng, y.size)
    objective = AlertBudget(budget, min_precision=min_precision, min_recall=min_recall)
    expected = oracle(
        y == 1,
        scores,
        budget,
        weight,
        min_precision=min_precision,
        min_recall=min_recall,
    )
    if expected is None:
        with pytest.raises(InfeasibleTargetError):
            pick_threshold(y, scores, objective, sample_weight=weight)
        return
    pick = pick_threshold(y, scores, objective, sample_weight=weight)
    check_pick(pick, y == 1, scores, expected, weight)
    if min_precision is not None:
        assert pick.precision >= min_precision * (1 - TOL)
    if min_recall is not None:
        assert pick.recall >= min_recall * (1 - TOL)


def test_a_precision_floor_can_move_the_cut_up():
    # Within 0.5 of the rows: 5 flags give recall 1 at precision 3/5; the
    # floor 0.9 leaves only the top row (recall 1/3, precision 1).
    y = np.array([1, 0, 1, 0, 1, 0, 0, 0, 0, 0])
    scores = np.linspace(1, 0, 10)
    assert pick_threshold(y, scores, AlertBudget(0.5)).tp == 3
    pick = pick_threshold(y, scores, AlertBudget(0.5, min_precision=0.9))
    assert (pick.tp, pick.fp) == (1, 0)


def test_infeasible_floors_raise_a_value_error():
    _rng, y, scores = scored(n=400, seed=1)
    # Recall is at most 0.05 / prevalence (about 0.25) within a 0.05 budget.
    objective = AlertBudget(0.05, min_recall=0.9)
    assert oracle(y == 1, scores, 0.05, min_recall=0.9) is None
    with pytest.raises(InfeasibleTargetError) as error:
        pick_threshold(y, scores, objective)
    assert isinstance(error.value, ValueError)
    assert issubclass(InfeasibleTargetError, ValueError)


@pytest.mark.parametrize(
    "floors", [{"min_recall": 0.9}, {"min_precision": 0.999, "min_recall": 0.5}]
)
@pytest.mark.parametrize("weights", ["none", "random"])
def test_warn_keeps_the_budget_alone(floors, weights):
    rng, y, scores = scored(n=400, seed=1, decimals=2)
    weight = weights_for(weights, rng, y.size)
    budget = 0.05
    assert oracle(y == 1, scores, budget, weight, **floors) is None
    with pytest.raises(InfeasibleTargetError):
        pick_threshold(y, scores, AlertBudget(budget, **floors), sample_weight=weight)
    with pytest.warns(UserWarning):
        pick = pick_threshold(
            y,
            scores,
            AlertBudget(budget, on_infeasible="warn", **floors),
            sample_weight=weight,
        )
    check_pick(pick, y == 1, scores, oracle(y == 1, scores, budget, weight), weight)


def test_a_feasible_target_does_not_warn():
    _rng, y, scores = scored(n=400, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pick_threshold(y, scores, AlertBudget(0.2, on_infeasible="warn"))


@pytest.mark.parametrize("on_infeasible", ["raise", "warn"])
@pytest.mark.parametrize("floors", [{}, {"min_precision": 0.5}])
def test_a_budget_below_the_top_tie_always_raises(on_infeasible, floors):
    rng = np.random.default_rng(0)
    y = (rng.random(100) < 0.3).astype(int)
    y[:2] = 1
    scores = rng.random(100) * 0.9
    scores[:20] = 1.0  # 20 % of the rows share the top score
    objective = AlertBudget(0.1, on_infeasible=on_infeasible, **floors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InfeasibleTargetError):
            pick_threshold(y, scores, objective)
    # just above the tie it is feasible
    pick = pick_threshold(y, scores, AlertBudget(0.2))
    assert pick.positive_rate == pytest.approx(0.2)


# ---------------------------------------------------------------------------
# Confidence: the Clopper-Pearson upper bound within the budget


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.95, 0.99])
@pytest.mark.parametrize("budget", [0.02, 0.05, 0.2])
@pytest.mark.parametrize("decimals", [None, 2])
def test_confidence_bound_is_brute_forced(confidence, budget, decimals):
    _rng, y, scores = scored(n=1_500, seed=4, decimals=decimals, prevalence=0.1)
    n = y.size
    expected = oracle(y == 1, scores, budget, confidence=confidence)
    objective = AlertBudget(budget, confidence=confidence)
    if expected is None:
        with pytest.raises(InfeasibleTargetError):
            pick_threshold(y, scores, objective)
        return
    pick = pick_threshold(y, scores, objective)
    check_pick(pick, y == 1, scores, expected)
    k = int(np.count_nonzero(scores >= pick.threshold))
    assert beta.ppf(confidence, k + 1, n - k) <= budget * (1 + TOL)
    # No cut with more flags and more recall fits under the bound.
    feasible = [
        r for r in cut_table(y == 1, scores) if within_budget(r, budget, n, confidence)
    ]
    largest = max(feasible, key=lambda r: r["k"])
    assert pick.recall == pytest.approx(largest["recall"], rel=1e-12)
    # The margin never flags more than the plain budget.
    plain = pick_threshold(y, scores, AlertBudget(budget))
    assert pick.tp + pick.fp <= plain.tp + plain.fp


def test_confidence_with_equal_weights_is_unweighted():
    _rng, y, scores = scored(n=1_000, seed=6, prevalence=0.1)
    objective = AlertBudget(0.05, confidence=0.9)
    plain = pick_threshold(y, scores, objective)
    weighted = pick_threshold(y, scores, objective, sample_weight=np.full(y.size, 2.5))
    assert weighted.threshold == plain.threshold


def test_confidence_that_no_cut_meets_raises():
    _rng, y, scores = scored(n=50, seed=6)
    # Flagging one row of 50 has a 0.99 upper bound of about 0.126.
    assert beta.ppf(0.99, 2, 49) > 0.05
    with pytest.raises(InfeasibleTargetError):
        pick_threshold(y, scores, AlertBudget(0.05, confidence=0.99))


# ---------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_positive_rate": 0.1, "confidence": 0.3},
        {"max_positive_rate": 0.1, "confidence": 1.0},
        {"max_positive_rate": 0.1, "on_infeasible": "ignore"},
        {"max_positive_rate": 0.1, "min_precision": 1.5},
        {"max_positive_rate": 0.1, "min_recall": -0.1},
        {"max_positive_rate": 1.5},
        {"max_positive_rate": -0.1},
    ],
    ids=repr,
)
def test_invalid_parameters_are_refused(kwargs):
    _rng, y, scores = scored(n=50, seed=0)
    with pytest.raises(ValueError):
        pick_threshold(y, scores, AlertBudget(**kwargs))


# ---------------------------------------------------------------------------
# The estimator


@pytest.fixture(scope="module")
def binary_split():
    X, y = make_classification(
        n_samples=1_200, n_features=6, weights=[0.85], flip_y=0.03, random_state=7
    )
    model = LogisticRegression().fit(X[:600], y[:600])
    return model, X[600:], y[600:]


@pytest.mark.parametrize("budget", [0.05, 0.1, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_prefit_estimator_flags_the_brute_force_best(binary_split, budget, weighted):
    model, X, y = binary_split
    weight = np.random.default_rng(2).random(y.size) + 0.2 if weighted else None
    tuned = ThresholdTunedClassifier(
        model, objective=AlertBudget(budget), cv="prefit"
    ).fit(X, y, sample_weight=weight)
    scores = model.predict_proba(X)[:, 1]
    expected = oracle(y == 1, scores, budget, weight)
    flagged = tuned.predict(X) == 1
    np.testing.assert_array_equal(flagged, expected["flagged"])
    assert tuned.best_score_ == pytest.approx(expected["recall"], rel=1e-9)


def test_prefit_estimator_with_floors(binary_split):
    model, X, y = binary_split
    objective = AlertBudget(0.2, min_precision=0.7)
    tuned = ThresholdTunedClassifier(model, objective=objective, cv="prefit").fit(X, y)
    scores = model.predict_proba(X)[:, 1]
    expected = oracle(y == 1, scores, 0.2, min_precision=0.7)
    np.testing.assert_array_equal(tuned.predict(X) == 1, expected["flagged"])


def test_cross_validated_estimator_fits(data):
    X, y = data
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=AlertBudget(0.1), cv=5
    ).fit(X, y)
    assert np.isfinite(tuned.threshold_)
    assert 0 < tuned.best_score_ <= 1


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        n_samples=900,
        n_features=8,
        n_informative=5,
        n_classes=3,
        flip_y=0.05,
        random_state=3,
    )
    model = LogisticRegression().fit(X[:450], y[:450])
    return model, X[450:], y[450:]


def test_multiclass_without_pos_label_is_refused(three_classes):
    model, X, y = three_classes
    with pytest.raises(ValueError):
        ThresholdTunedClassifier(
            LogisticRegression(), objective=AlertBudget(0.1), cv=3
        ).fit(X, y)
    with pytest.raises(ValueError):
        ThresholdTunedClassifier(model, objective=AlertBudget(0.1), cv="prefit").fit(
            X, y
        )
    with pytest.raises(ValueError):
        pick_threshold(y, model.predict_proba(X)[:, 0], AlertBudget(0.1))


@pytest.mark.parametrize("pos_label", [0, 1, 2])
@pytest.mark.parametrize("budget", [0.1, 0.3])
def test_multiclass_pick_with_pos_label(three_classes, pos_label, budget):
    model, X, y = three_classes
    scores = np.round(model.predict_proba(X)[:, pos_label], 2)
    pick = pick_threshold(y, scores, AlertBudget(budget), pos_label=pos_label)
    assert pick.pos_label == pos_label
    expected = oracle(y == pos_label, scores, budget)
    check_pick(pick, y == pos_label, scores, expected)


@pytest.mark.parametrize("pos_label", [0, 2])
def test_multiclass_estimator_with_pos_label(three_classes, pos_label):
    model, X, y = three_classes
    tuned = ThresholdTunedClassifier(
        model, objective=AlertBudget(0.2), cv="prefit", pos_label=pos_label
    ).fit(X, y)
    scores = model.predict_proba(X)[:, pos_label]
    expected = oracle(y == pos_label, scores, 0.2)
    np.testing.assert_array_equal(tuned.predict(X) == pos_label, expected["flagged"])


@pytest.mark.parametrize("prevalence", [0.02, 0.15, 0.4])
@pytest.mark.parametrize("weighted", [False, True])
def test_budget_bound_at_a_prevalence_is_the_stratified_one(prevalence, weighted):
    """At a stated prevalence the flagged rate is ``π' TPR + (1 − π') FPR``
    with the proportions fixed: its upper bound reads the variance of that
    stratified mix, each class's rate on its own (Kish) rows. Brute force
    over every distinct cut: the pick is the lowest cut whose bound, written
    out here, is within the budget."""
    rng = np.random.default_rng(3)
    n = 3000
    positive = rng.random(n) < 0.2
    scores = np.round(rng.normal(size=n) + 2 * positive, 2)
    weight = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    budget, confidence = 0.1, 0.9
    objective = AlertBudget(budget, confidence=confidence)
    pick = pick_threshold(
        positive,
        scores,
        objective,
        sample_weight=weight if weighted else None,
        prevalence=prevalence,
    )

    def bound(cut):
        called = scores >= cut
        rates, variance = [], 0.0
        for in_class, share in ((positive, prevalence), (~positive, 1 - prevalence)):
            w = weight[in_class]
            rate = w[called[in_class]].sum() / w.sum()
            kish = w.sum() ** 2 / (w**2).sum()
            rates.append(rate)
            variance += share**2 * rate * (1 - rate) / kish
        flagged = prevalence * rates[0] + (1 - prevalence) * rates[1]
        size = flagged * (1 - flagged) / variance
        return beta.ppf(confidence, flagged * size + 1, size - flagged * size)

    feasible = [cut for cut in np.unique(scores) if bound(cut) <= budget]
    # The most positives found, ties going to the highest cut.
    found = [np.count_nonzero(positive & (scores >= cut)) for cut in feasible]
    best = max(cut for cut, k in zip(feasible, found, strict=True) if k == max(found))
    # The same decisions (a budget's cut may sit between two scores).
    np.testing.assert_array_equal(scores >= pick.threshold, scores >= best)
