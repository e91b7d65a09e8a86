"""Per-row costs in a CostMatrix, against a brute force written with numpy.

The oracle never reads the implementation: for every cut ``t`` in
``{+inf} U distinct scores`` it calls ``score >= t`` positive and sums each row's
own cost of its decision, weighted; the chosen threshold must reach the minimum.
"""

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators.objectives import F1, CostMatrix, PrecisionTarget

# ---------------------------------------------------------------------------
# The oracle


def cost_table(y, classes, matrix, metadata):
    """(n_rows, n_classes): the cost of predicting each class for each row.

    Row r of true class index i costs matrix[i][j] as class j, or the row's value
    of the per-row column matrix[i][j] names.
    """
    y = np.asarray(y)
    classes = list(classes)
    truth = np.array([classes.index(label) for label in y])
    table = np.empty((y.size, len(classes)))
    for r, i in enumerate(truth):
        for j in range(len(classes)):
            entry = matrix[i][j]
            if isinstance(entry, str):
                table[r, j] = float(np.asarray(metadata[entry], dtype=float)[r])
            else:
                table[r, j] = float(entry)
    return table


def cut_costs(scores, cost_flagged, cost_unflagged, weight=None):
    """(cuts, totals): the weighted total cost of ``scores >= t`` at every cut."""
    scores = np.asarray(scores, dtype=float)
    weight = np.ones(scores.size) if weight is None else np.asarray(weight, float)
    cuts = np.concatenate(([np.inf], np.unique(scores)))
    totals = np.array(
        [
            np.sum(weight * np.where(scores >= t, cost_flagged, cost_unflagged))
            for t in cuts
        ]
    )
    return cuts, totals


def decision_cost(flagged, cost_flagged, cost_unflagged, weight=None):
    weight = np.ones(len(flagged)) if weight is None else np.asarray(weight, float)
    return np.sum(weight * np.where(flagged, cost_flagged, cost_unflagged))


def tolerance(cost_flagged, cost_unflagged, weight=None):
    """1e-9 of the largest total cost any decision could have."""
    weight = np.ones(len(cost_flagged)) if weight is None else np.asarray(weight)
    worst = np.maximum(np.abs(cost_flagged), np.abs(cost_unflagged))
    return 1e-9 * max(np.sum(weight * worst), 1e-300)


def check_exact_pick(pick, scores, cost_flagged, cost_unflagged, weight=None):
    """The pick reaches the brute-force minimum, and reports it as its score."""
    _, totals = cut_costs(scores, cost_flagged, cost_unflagged, weight)
    best = totals.min()
    tol = tolerance(cost_flagged, cost_unflagged, weight)
    chosen = decision_cost(
        np.asarray(scores) >= pick.threshold, cost_flagged, cost_unflagged, weight
    )
    assert abs(chosen - best) <= tol, (chosen, best)
    total_weight = len(scores) if weight is None else np.sum(weight)
    assert abs(pick.score - (-best / total_weight)) <= tol / total_weight
    return best


def binary_costs(y, classes, pos_label, matrix, metadata):
    """(cost if flagged, cost if not) per row, flagged meaning pos_label."""
    classes = list(classes)
    table = cost_table(y, classes, matrix, metadata)
    p = classes.index(pos_label)
    return table[:, p], table[:, 1 - p]


# ---------------------------------------------------------------------------
# Data


def scored(n=400, seed=0, decimals=None, positive_rate=0.3):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(int)
    scores = rng.random(n) * 0.7 + 0.3 * y
    if decimals is not None:
        scores = np.round(scores, decimals)  # heavy ties
    return rng, y, scores


@pytest.fixture(scope="module")
def split_data():
    X, y = make_classification(
        n_samples=800, n_features=6, weights=[0.7], flip_y=0.05, random_state=2
    )
    model = LogisticRegression().fit(X[:400], y[:400])
    rng = np.random.default_rng(5)
    amount = rng.exponential(20.0, size=800)
    return model, X[400:], y[400:], amount[400:]


# ---------------------------------------------------------------------------
# pick_threshold: exactness


@pytest.mark.parametrize("decimals", [None, 1, 2])
@pytest.mark.parametrize("weights", ["none", "random", "integer"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pick_with_amount_is_the_cheapest_cut(decimals, weights, seed):
    rng, y, scores = scored(n=300, seed=seed, decimals=decimals)
    amount = rng.exponential(30.0, size=y.size)
    weight = {
        "none": None,
        "random": rng.random(y.size) * 4 + 0.05,
        "integer": rng.integers(1, 5, y.size).astype(float),
    }[weights]
    matrix = [[0, 5], ["amount", 0]]
    pick = pick_threshold(
        y, scores, CostMatrix(matrix), sample_weight=weight, amount=amount
    )
    flagged, unflagged = binary_costs(y, [0, 1], 1, matrix, {"amount": amount})
    check_exact_pick(pick, scores, flagged, unflagged, weight)


def test_integer_weights_equal_repeated_rows():
    rng, y, scores = scored(n=200, seed=11, decimals=2)
    amount = rng.exponential(10.0, size=y.size)
    counts = rng.integers(1, 4, y.size)
    objective = CostMatrix([[0, 2], ["amount", 0]])
    weighted = pick_threshold(
        y, scores, objective, sample_weight=counts.astype(float), amount=amount
    )
    repeated = pick_threshold(
        np.repeat(y, counts),
        np.repeat(scores, counts),
        objective,
        amount=np.repeat(amount, counts),
    )
    flagged, unflagged = binary_costs(
        y, [0, 1], 1, objective.matrix, {"amount": amount}
    )
    best = check_exact_pick(weighted, scores, flagged, unflagged, counts)
    check_exact_pick(
        repeated,
        np.repeat(scores, counts),
        np.repeat(flagged, counts),
        np.repeat(unflagged, counts),
    )
    assert repeated.score == pytest.approx(-best / counts.sum(), rel=1e-9)


@st.composite
def tied_rows(draw):
    n = draw(st.integers(2, 40))
    levels = draw(st.integers(1, 6))
    scores = np.array(draw(st.lists(st.integers(0, levels), min_size=n, max_size=n)))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[:2] = [0, 1]
    amount = np.array(draw(st.lists(st.integers(0, 50), min_size=n, max_size=n)))
    amount[1] = max(amount[1], 1)  # some row prefers a decision
    weighted = draw(st.booleans())
    weight = (
        np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)), float)
        if weighted
        else None
    )
    fp_cost = draw(st.integers(1, 20))
    return y, scores / levels, amount.astype(float), weight, fp_cost


@settings(max_examples=150, deadline=None)
@given(tied_rows())
def test_pick_is_exact_on_heavy_ties_and_integer_costs(rows):
    y, scores, amount, weight, fp_cost = rows
    matrix = [[0, fp_cost], ["amount", 0]]
    pick = pick_threshold(
        y, scores, CostMatrix(matrix), sample_weight=weight, amount=amount
    )
    flagged, unflagged = binary_costs(y, [0, 1], 1, matrix, {"amount": amount})
    check_exact_pick(pick, scores, flagged, unflagged, weight)


@pytest.mark.parametrize("seed", [0, 3])
def test_string_labels_with_a_named_positive_class(seed):
    rng, y01, scores = scored(n=400, seed=seed, decimals=2)
    y = np.where(y01 == 1, "fraud", "ok")
    amount = rng.exponential(30.0, size=y.size)
    # sorted classes: ("fraud", "ok"); a missed fraud costs its amount
    matrix = [[0, "amount"], [4, 0]]
    pick = pick_threshold(
        y, scores, CostMatrix(matrix), pos_label="fraud", amount=amount
    )
    assert pick.pos_label == "fraud"
    flagged, unflagged = binary_costs(
        y, ["fraud", "ok"], "fraud", matrix, {"amount": amount}
    )
    check_exact_pick(pick, scores, flagged, unflagged)


def test_string_labels_tuning_the_first_class_differs_from_the_second():
    """With pos_label="fraud" the scores are fraud's: the oracle flags fraud."""
    rng, y01, scores = scored(n=300, seed=4, decimals=2)
    y = np.where(y01 == 1, "fraud", "ok")
    amount = rng.exponential(30.0, size=y.size)
    matrix = [[0, "amount"], [4, 0]]
    pick = pick_threshold(
        y, scores, CostMatrix(matrix), pos_label="fraud", amount=amount
    )
    flagged, unflagged = binary_costs(
        y, ["fraud", "ok"], "fraud", matrix, {"amount": amount}
    )
    best = check_exact_pick(pick, scores, flagged, unflagged)
    # The wrong orientation (flagging "ok") would be a different problem.
    wrong_f, wrong_u = unflagged, flagged
    _, wrong_totals = cut_costs(scores, wrong_f, wrong_u)
    assert wrong_totals.min() != pytest.approx(best, rel=1e-6)


def test_minus_one_one_labels():
    rng, y01, scores = scored(n=400, seed=7, decimals=2)
    y = np.where(y01 == 1, 1, -1)
    amount = rng.exponential(15.0, size=y.size)
    matrix = [[0, 3], ["amount", 0]]
    pick = pick_threshold(y, scores, CostMatrix(matrix), amount=amount)
    assert pick.pos_label == 1
    flagged, unflagged = binary_costs(y, [-1, 1], 1, matrix, {"amount": amount})
    check_exact_pick(pick, scores, flagged, unflagged)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_several_named_columns_and_negative_gains(seed, weighted):
    rng, y, scores = scored(n=350, seed=seed, decimals=2)
    amount = rng.exponential(20.0, size=y.size)
    gain = -rng.exponential(2.0, size=y.size)  # a true negative earns its gain
    fee = rng.uniform(1.0, 6.0, size=y.size) + np.maximum(gain, 0)
    weight = rng.random(y.size) * 3 + 0.1 if weighted else None
    matrix = [["gain", "fee"], ["amount", 0]]
    objective = CostMatrix(matrix)
    assert objective.metadata_names == ("amount", "fee", "gain")
    pick = pick_threshold(
        y, scores, objective, sample_weight=weight, amount=amount, gain=gain, fee=fee
    )
    columns = {"amount": amount, "gain": gain, "fee": fee}
    flagged, unflagged = binary_costs(y, [0, 1], 1, matrix, columns)
    check_exact_pick(pick, scores, flagged, unflagged, weight)


def test_metadata_names_are_sorted_and_unique():
    objective = CostMatrix([["zeta", "amount"], ["amount", 0]])
    assert objective.metadata_names == ("amount", "zeta")
    assert CostMatrix([[0, 1], [2, 0]]).metadata_names == ()


def test_indifferent_rows_are_allowed_when_some_row_prefers():
    """Negatives cost nothing either way: flagging every positive is optimal."""
    rng, y, scores = scored(n=200, seed=9, decimals=2)
    amount = rng.exponential(10.0, size=y.size) + 0.1
    matrix = [[0, 0], ["amount", 0]]
    pick = pick_threshold(y, scores, CostMatrix(matrix), amount=amount)
    flagged, unflagged = binary_costs(y, [0, 1], 1, matrix, {"amount": amount})
    best = check_exact_pick(pick, scores, flagged, unflagged)
    assert best == pytest.approx(0.0, abs=1e-12)
    assert np.all(scores[y == 1] >= pick.threshold)


def test_counts_of_the_pick_are_those_of_its_decision():
    rng, y, scores = scored(n=300, seed=12, decimals=2)
    amount = rng.exponential(10.0, size=y.size)
    weight = rng.random(y.size) + 0.5
    pick = pick_threshold(
        y,
        scores,
        CostMatrix([[0, 2], ["amount", 0]]),
        sample_weight=weight,
        amount=amount,
    )
    called = scores >= pick.threshold
    assert pick.tp == pytest.approx(np.sum(weight * (called & (y == 1))))
    assert pick.fp == pytest.approx(np.sum(weight * (called & (y == 0))))
    assert pick.tn == pytest.approx(np.sum(weight * (~called & (y == 0))))
    assert pick.fn == pytest.approx(np.sum(weight * (~called & (y == 1))))


# ---------------------------------------------------------------------------
# Invariances


@pytest.mark.parametrize("factor", [3.7, 1e-6, 1e6])
@pytest.mark.parametrize("decimals", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_scaling_every_cost_leaves_the_threshold(factor, decimals, weighted):
    rng, y, scores = scored(n=400, seed=21, decimals=decimals)
    amount = np.round(rng.exponential(20.0, size=y.size))  # integers: exact ties
    gain = -np.round(rng.exponential(2.0, size=y.size))
    weight = rng.integers(1, 4, y.size).astype(float) if weighted else None
    base = pick_threshold(
        y,
        scores,
        CostMatrix([["gain", 5], ["amount", 0]]),
        sample_weight=weight,
        amount=amount,
        gain=gain,
    )
    scaled = pick_threshold(
        y,
        scores,
        CostMatrix([["gain", 5 * factor], ["amount", 0]]),
        sample_weight=weight,
        amount=amount * factor,
        gain=gain * factor,
    )
    assert scaled.threshold == base.threshold
    assert scaled.score == pytest.approx(base.score * factor, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_permuting_rows_leaves_the_threshold(seed):
    rng, y, scores = scored(n=300, seed=seed, decimals=2)
    amount = np.round(rng.exponential(20.0, size=y.size))
    weight = rng.random(y.size) + 0.2
    objective = CostMatrix([[0, 4], ["amount", 0]])
    base = pick_threshold(y, scores, objective, sample_weight=weight, amount=amount)
    order = rng.permutation(y.size)
    moved = pick_threshold(
        y[order],
        scores[order],
        objective,
        sample_weight=weight[order],
        amount=amount[order],
    )
    assert moved.threshold == base.threshold
    assert moved.score == pytest.approx(base.score, rel=1e-12)


@pytest.mark.parametrize("decimals", [None, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("where", ["fn", "fp"])
def test_a_constant_column_is_the_number(decimals, weighted, where):
    rng, y, scores = scored(n=500, seed=31, decimals=decimals)
    weight = rng.integers(1, 4, y.size).astype(float) if weighted else None
    if where == "fn":
        named, numeric = [[0, 1], ["amount", 0]], [[0, 1], [7, 0]]
    else:
        named, numeric = [[0, "amount"], [7, 0]], [[0, 1], [7, 0]]
    constant = 7.0 if where == "fn" else 1.0
    per_row = pick_threshold(
        y,
        scores,
        CostMatrix(named),
        sample_weight=weight,
        amount=np.full(y.size, constant),
    )
    numbers = pick_threshold(y, scores, CostMatrix(numeric), sample_weight=weight)
    assert per_row.threshold == numbers.threshold
    assert per_row.score == pytest.approx(numbers.score, rel=1e-12)


# ---------------------------------------------------------------------------
# One class of many, against the rest


@pytest.mark.parametrize("pos_label", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_class_against_the_rest_with_a_per_row_cost(pos_label, weighted):
    rng = np.random.default_rng(pos_label)
    y = rng.integers(0, 3, 400)
    scores = np.round(rng.random(400) * 0.7 + 0.3 * (y == pos_label), 2)
    amount = rng.exponential(10.0, size=400)
    weight = rng.random(400) * 2 + 0.1 if weighted else None
    matrix = [[0, 2], ["amount", 0]]  # (rest, pos_label)
    pick = pick_threshold(
        y,
        scores,
        CostMatrix(matrix),
        pos_label=pos_label,
        sample_weight=weight,
        amount=amount,
    )
    assert pick.pos_label == pos_label
    flagged, unflagged = binary_costs(
        y == pos_label, [False, True], True, matrix, {"amount": amount}
    )
    check_exact_pick(pick, scores, flagged, unflagged, weight)


# ---------------------------------------------------------------------------
# The estimator


@pytest.mark.parametrize("weighted", [False, True])
def test_prefit_estimator_is_the_brute_force_on_its_scores(split_data, weighted):
    model, X, y, amount = split_data
    rng = np.random.default_rng(1)
    weight = rng.random(y.size) * 2 + 0.1 if weighted else None
    matrix = [[0, 3], ["amount", 0]]
    tuned = ThresholdTunedClassifier(
        model, objective=CostMatrix(matrix), cv="prefit"
    ).fit(X, y, sample_weight=weight, amount=amount)
    scores = model.predict_proba(X)[:, 1]
    flagged, unflagged = binary_costs(y, [0, 1], 1, matrix, {"amount": amount})
    _, totals = cut_costs(scores, flagged, unflagged, weight)
    best = totals.min()
    tol = tolerance(flagged, unflagged, weight)
    called = tuned.predict(X) == 1
    np.testing.assert_array_equal(called, scores >= tuned.threshold_)
    assert abs(decision_cost(called, flagged, unflagged, weight) - best) <= tol
    total_weight = y.size if weight is None else weight.sum()
    assert tuned.best_score_ == pytest.approx(-best / total_weight, rel=1e-9)


def test_prefit_estimator_agrees_with_pick_threshold(split_data):
    model, X, y, amount = split_data
    objective = CostMatrix([["gain", 3], ["amount", 0]])
    gain = -np.linspace(0, 2, y.size)
    tuned = ThresholdTunedClassifier(model, objective=objective, cv="prefit").fit(
        X, y, amount=amount, gain=gain
    )
    pick = pick_threshold(
        y, model.predict_proba(X)[:, 1], objective, amount=amount, gain=gain
    )
    assert tuned.threshold_ == pick.threshold
    assert tuned.best_score_ == pytest.approx(pick.score, rel=1e-12)


def test_cross_validated_estimator_is_the_brute_force_on_pooled_scores():
    X, y = make_classification(
        n_samples=600, n_features=6, weights=[0.75], flip_y=0.05, random_state=4
    )
    rng = np.random.default_rng(4)
    amount = rng.exponential(25.0, size=y.size)
    weight = rng.random(y.size) + 0.3
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    matrix = [[0, 4], ["amount", 0]]
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=CostMatrix(matrix), cv=splits
    ).fit(X, y, sample_weight=weight, amount=amount)
    oof = np.empty(y.size)
    for train, test in splits:
        model = clone(LogisticRegression()).fit(
            X[train], y[train], sample_weight=weight[train]
        )
        oof[test] = model.predict_proba(X[test])[:, 1]
    flagged, unflagged = binary_costs(y, [0, 1], 1, matrix, {"amount": amount})
    _, totals = cut_costs(oof, flagged, unflagged, weight)
    best = totals.min()
    tol = tolerance(flagged, unflagged, weight)
    chosen = decision_cost(oof >= tuned.threshold_, flagged, unflagged, weight)
    assert abs(chosen - best) <= tol
    assert tuned.best_score_ == pytest.approx(-best / weight.sum(), rel=1e-9)


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Records the keyword arguments every fit receives."""

    # Shared by every clone.
    received: list = []

    def fit(self, X, y, **kwargs):
        RecordingClassifier.received.append(sorted(kwargs))
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


@pytest.mark.parametrize("routing", [False, True])
def test_per_row_costs_never_reach_the_estimators_fit(data, routing):
    X, y = data
    amount = np.random.default_rng(0).exponential(5.0, size=y.size)
    RecordingClassifier.received = []
    with sklearn.config_context(enable_metadata_routing=routing):
        tuned = ThresholdTunedClassifier(
            RecordingClassifier(),
            objective=CostMatrix([[0, 1], ["amount", 0]]),
            cv=3,
        ).fit(X, y, amount=amount)
    assert len(RecordingClassifier.received) == 4  # 3 folds and the refit
    assert all(kwargs == [] for kwargs in RecordingClassifier.received)
    assert np.isfinite(tuned.threshold_)


def test_the_refitted_estimator_is_fitted_without_the_costs(data):
    X, y = data
    amount = np.random.default_rng(0).exponential(5.0, size=y.size)
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=CostMatrix([[0, 1], ["amount", 0]]), cv=3
    ).fit(X, y, amount=amount)
    plain = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(tuned.estimator_.coef_, plain.coef_)
    np.testing.assert_array_equal(tuned.estimator_.intercept_, plain.intercept_)


def test_routing_enabled_gives_the_same_threshold(split_data):
    model, X, y, amount = split_data
    objective = CostMatrix([[0, 3], ["amount", 0]])
    plain = ThresholdTunedClassifier(model, objective=objective, cv="prefit").fit(
        X, y, amount=amount
    )
    with sklearn.config_context(enable_metadata_routing=True):
        routed = ThresholdTunedClassifier(model, objective=objective, cv="prefit").fit(
            X, y, amount=amount
        )
    assert routed.threshold_ == plain.threshold_
    assert routed.best_score_ == plain.best_score_


@pytest.mark.parametrize("factor", [3.7, 1e-6, 1e6])
def test_estimator_threshold_is_scale_invariant(split_data, factor):
    model, X, y, amount = split_data
    base = ThresholdTunedClassifier(
        model, objective=CostMatrix([[0, 3], ["amount", 0]]), cv="prefit"
    ).fit(X, y, amount=amount)
    scaled = ThresholdTunedClassifier(
        model, objective=CostMatrix([[0, 3 * factor], ["amount", 0]]), cv="prefit"
    ).fit(X, y, amount=amount * factor)
    assert scaled.threshold_ == base.threshold_


# ---------------------------------------------------------------------------
# k x k


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
    amount = np.random.default_rng(3).exponential(6.0, size=450)
    return model, X[450:], y[450:], amount


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "matrix",
    [
        [[0, 1, 2], ["amount", 0, 1], [4, 3, 0]],
        [[0, "amount", "amount"], [2, 0, 1], ["amount", 3, 0]],
    ],
    ids=["one-entry", "three-entries"],
)
def test_k_by_k_best_score_is_the_mean_row_cost_of_its_decisions(
    three_classes, matrix, weighted
):
    model, X, y, amount = three_classes
    weight = np.random.default_rng(8).random(y.size) + 0.2 if weighted else None
    tuned = ThresholdTunedClassifier(
        model, objective=CostMatrix(matrix), cv="prefit"
    ).fit(X, y, sample_weight=weight, amount=amount)
    assert tuned.cost_rule_ in ("bayes", "offsets")
    predicted = tuned.predict(X)
    assert set(np.unique(predicted)) <= {0, 1, 2}
    table = cost_table(y, [0, 1, 2], matrix, {"amount": amount})
    w = np.ones(y.size) if weight is None else weight
    realized = table[np.arange(y.size), predicted]
    assert tuned.best_score_ == pytest.approx(
        -np.sum(w * realized) / np.sum(w), rel=1e-9, abs=1e-12
    )


def test_k_by_k_with_string_labels(three_classes):
    _model, X, y, amount = three_classes
    names = np.array(["a", "b", "c"])
    labelled = names[y]
    # a model with the string classes: the same scores
    string_model = LogisticRegression().fit(X, labelled)
    matrix = [[0, 1, "amount"], [1, 0, 1], [2, 2, 0]]
    tuned = ThresholdTunedClassifier(
        string_model, objective=CostMatrix(matrix), cv="prefit"
    ).fit(X, labelled, amount=amount)
    predicted = tuned.predict(X)
    assert set(np.unique(predicted)) <= {"a", "b", "c"}
    table = cost_table(labelled, ["a", "b", "c"], matrix, {"amount": amount})
    realized = table[np.arange(y.size), np.searchsorted(names, predicted)]
    assert tuned.best_score_ == pytest.approx(-realized.mean(), rel=1e-9)


def test_k_by_k_rejects_a_row_preferring_a_wrong_class(three_classes):
    model, X, y, amount = three_classes
    bad = amount.copy()
    bad[np.flatnonzero(y == 1)[0]] = -1.0
    with pytest.raises(ValueError, match="amount"):
        ThresholdTunedClassifier(
            model,
            objective=CostMatrix([[0, 1, 2], ["amount", 0, 1], [4, 3, 0]]),
            cv="prefit",
        ).fit(X, y, amount=bad)


# ---------------------------------------------------------------------------
# Errors


def bad_amounts(n):
    nan = np.ones(n)
    nan[3] = np.nan
    inf = np.ones(n)
    inf[5] = np.inf
    return {
        "wrong length": np.ones(n - 1),
        "two columns": np.ones((n, 2)),
        "NaN": nan,
        "inf": inf,
        "-inf": -inf,
        "strings": np.array(["x"] * n),
        "object strings": np.array(["x"] * (n - 1) + [1.0], dtype=object),
    }


@pytest.mark.parametrize("case", list(bad_amounts(10)))
def test_malformed_per_row_costs_are_refused_by_name(case):
    _rng, y, scores = scored(n=10, seed=0)
    y[:2] = [0, 1]
    amount = bad_amounts(10)[case]
    with pytest.raises(ValueError, match="amount"):
        pick_threshold(y, scores, CostMatrix([[0, 1], ["amount", 0]]), amount=amount)


@pytest.mark.parametrize("case", list(bad_amounts(400)))
def test_malformed_per_row_costs_are_refused_by_the_estimator(split_data, case):
    model, X, y, _ = split_data
    amount = bad_amounts(y.size)[case]
    with pytest.raises(ValueError, match="amount"):
        ThresholdTunedClassifier(
            model, objective=CostMatrix([[0, 1], ["amount", 0]]), cv="prefit"
        ).fit(X, y, amount=amount)


def test_a_missing_per_row_cost_is_named():
    _rng, y, scores = scored(n=50, seed=0)
    with pytest.raises(ValueError, match="amount"):
        pick_threshold(y, scores, CostMatrix([[0, 1], ["amount", 0]]))
    with pytest.raises(ValueError, match="gain"):
        pick_threshold(
            y,
            scores,
            CostMatrix([["gain", 1], ["amount", 0]]),
            amount=np.ones(50),
        )


def test_a_missing_per_row_cost_is_named_by_the_estimator(data):
    X, y = data
    with pytest.raises(ValueError, match="amount"):
        ThresholdTunedClassifier(
            LogisticRegression(), objective=CostMatrix([[0, 1], ["amount", 0]]), cv=3
        ).fit(X, y)


@pytest.mark.parametrize(
    ("matrix", "entry"),
    [
        ([[0, 1], ["amount", 0]], "fn"),  # a missed positive earning money
        ([[0, "amount"], [1, 0]], "fp"),  # a false alarm earning money
        ([["amount", 1], [1, 0]], "tn>fp"),  # a true negative dearer than an alarm
    ],
)
def test_a_row_preferring_the_wrong_decision_is_refused(matrix, entry):
    rng, y, scores = scored(n=60, seed=2)
    amount = rng.exponential(0.2, size=y.size)
    if entry == "tn>fp":
        amount[np.flatnonzero(y == 0)[0]] = 5.0  # tn costs 5, fp costs 1
    else:
        row = np.flatnonzero(y == (1 if entry == "fn" else 0))[0]
        amount[row] = -2.0
    with pytest.raises(ValueError, match="amount"):
        pick_threshold(y, scores, CostMatrix(matrix), amount=amount)


def test_equal_costs_on_a_row_are_allowed():
    rng, y, scores = scored(n=60, seed=2, decimals=1)
    amount = rng.exponential(3.0, size=y.size)
    amount[np.flatnonzero(y == 1)[:3]] = 0.0  # wrong == right: indifferent
    matrix = [[0, 1], ["amount", 0]]
    pick = pick_threshold(y, scores, CostMatrix(matrix), amount=amount)
    flagged, unflagged = binary_costs(y, [0, 1], 1, matrix, {"amount": amount})
    check_exact_pick(pick, scores, flagged, unflagged)


def test_no_preference_on_any_row_is_refused():
    _rng, y, scores = scored(n=60, seed=2)
    with pytest.raises(ValueError, match=r"amount|preference"):
        pick_threshold(
            y, scores, CostMatrix([[0, 0], ["amount", 0]]), amount=np.zeros(y.size)
        )


@pytest.mark.parametrize("objective", [F1(), "f1", PrecisionTarget(0.5)], ids=repr)
def test_metadata_an_objective_does_not_read_is_refused(objective):
    _rng, y, scores = scored(n=50, seed=0)
    with pytest.raises((TypeError, ValueError), match="amount"):
        pick_threshold(y, scores, objective, amount=np.ones(50))


def test_a_cost_matrix_refuses_a_name_it_does_not_read():
    _rng, y, scores = scored(n=50, seed=0)
    with pytest.raises((TypeError, ValueError), match="fee"):
        pick_threshold(
            y,
            scores,
            CostMatrix([[0, 1], ["amount", 0]]),
            amount=np.ones(50),
            fee=np.ones(50),
        )


def test_the_estimator_refuses_metadata_its_objective_does_not_read(data):
    X, y = data
    with pytest.raises((TypeError, ValueError), match="amount"):
        ThresholdTunedClassifier(LogisticRegression(), objective=F1(), cv=3).fit(
            X, y, amount=np.ones(y.size)
        )
