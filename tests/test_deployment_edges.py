"""Per-row costs, budgets and routed scorers at their edges (review findings)."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators.objectives import AlertBudget, CostMatrix

FRAUD_COSTS = CostMatrix([[0, 5], ["amount", 0]])


def brute_force_cost(y, scores, amount, weight=None):
    """Least mean cost over every cut, each evaluated row by row."""
    weight = np.ones(len(y)) if weight is None else weight
    cuts = np.concatenate(([np.inf], np.unique(scores)))
    costs = [
        np.sum(weight * np.where(y == 1, np.where(s, 0, amount), np.where(s, 5, 0)))
        / weight.sum()
        for s in (scores[:, None] >= cuts).T
    ]
    return min(costs), cuts[int(np.argmin(costs))]


@pytest.mark.parametrize(
    "amount",
    [
        np.array([1e15, 0.0, 10.0, 0.0]),  # costs 14 orders apart
        np.array([1e-16, 0.0, 3e-16, 0.0]),  # costs far below the false alarm
    ],
)
def test_costs_of_any_range_are_told_apart(amount):
    y = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.5, 0.4, 0.1])
    pick = pick_threshold(y, scores, FRAUD_COSTS, amount=amount)
    best, _ = brute_force_cost(y, scores, amount)
    reached, _ = brute_force_cost(y, scores >= pick.threshold, amount)
    assert reached == pytest.approx(best, rel=1e-12)
    assert -pick.score == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("factor", [1e-300, 1e-16, 1.0, 1e290])
def test_scaled_per_row_costs_keep_the_cut_and_scale_the_cost(factor):
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.2).astype(int)
    scores = np.round(rng.random(300) + 0.3 * y, 2)
    amount = rng.lognormal(2, 1, 300)
    objective = CostMatrix([[0, 5 * factor], ["amount", 0]])
    pick = pick_threshold(y, scores, objective, amount=amount * factor)
    reference = pick_threshold(y, scores, FRAUD_COSTS, amount=amount)
    assert pick.threshold == reference.threshold
    assert pick.score == pytest.approx(reference.score * factor, rel=1e-9)


def test_a_plain_function_objective_keeps_the_weights_under_routing():
    X, y = make_classification(300, random_state=0)
    weight = np.where(y == 1, 4.0, 1.0)
    received = []

    def accuracy(estimator, X, y, sample_weight=None):
        received.append(sample_weight is not None)
        return float(np.average(estimator.predict(X) == y, weights=sample_weight))

    with sklearn.config_context(enable_metadata_routing=True):
        estimator = LogisticRegression().set_fit_request(sample_weight=False)
        routed = ThresholdTunedClassifier(estimator, objective=accuracy)
        routed.fit(X, y, sample_weight=weight)
    assert received and all(received)


def test_pick_threshold_routes_by_the_scorers_requests():
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.3
    scores = rng.random(200) + 0.3 * y
    amount = rng.lognormal(2, 1, 200)
    weight = rng.random(200)
    seen = {}

    def cost(y_true, y_pred, amount, sample_weight=None):
        seen["weighted"] = sample_weight is not None
        return float(
            np.sum(np.where(y_true & ~y_pred, amount, 0)) + 5 * np.sum(~y_true & y_pred)
        )

    with sklearn.config_context(enable_metadata_routing=True):
        aliased = make_scorer(cost, greater_is_better=False).set_score_request(
            amount="amt"
        )
        by_alias = pick_threshold(y, scores, aliased, amt=amount)
        with pytest.raises(TypeError, match="amount"):
            pick_threshold(y, scores, aliased, amount=amount)
        declines = make_scorer(cost, greater_is_better=False).set_score_request(
            amount=True, sample_weight=False
        )
        pick_threshold(y, scores, declines, amount=amount, sample_weight=weight)
        assert seen["weighted"] is False
        with pytest.raises(ValueError, match="one value per sample"):
            pick_threshold(y, scores, declines, amount=amount[:3])
    # 200 rows: the scorer is evaluated at every cut, so it reaches the exact
    # search's least cost (its score is minus the total).
    exact = pick_threshold(y, scores, FRAUD_COSTS, amount=amount)
    assert -by_alias.score / 200 == pytest.approx(-exact.score, rel=1e-12)


@pytest.mark.parametrize("name", ["sample_weight", "X", "y"])
def test_a_cost_may_not_take_the_name_of_an_argument(name):
    with pytest.raises(ValueError, match="another name"):
        pick_threshold([0, 1], [0.2, 0.8], CostMatrix([[0, 5], [name, 0]]))


def test_a_budget_margin_that_no_cut_meets_names_the_bound():
    y = np.array([0, 1, 0, 1, 1, 0, 0, 0, 0, 0])
    scores = np.array([0.1, 0.9, 0.3, 0.7, 0.4, 0.5, 0.2, 0.6, 0.15, 0.05])
    with pytest.raises(ValueError, match=r"upper 0\.999 bound .* is 0\.62"):
        pick_threshold(y, scores, AlertBudget(0.3, confidence=0.999))


def test_bad_costs_on_zero_weight_rows_are_refused_as_by_fit():
    y = np.array([0, 0, 1, 0, 1, 1])
    scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.9])
    amount = np.array([10.0, 80.0, 4.0, np.nan, 300.0, 60.0])
    with pytest.raises(ValueError, match="'amount' must be finite"):
        pick_threshold(
            y, scores, FRAUD_COSTS, amount=amount, sample_weight=[1, 1, 1, 0, 1, 1]
        )


def test_metadata_of_wrong_length_is_refused_before_any_fold_is_fitted():
    X, y = make_classification(100, random_state=0)
    scorer = make_scorer(lambda t, p, amount: 0.0)
    with sklearn.config_context(enable_metadata_routing=True):
        model = ThresholdTunedClassifier(
            LogisticRegression(), objective=scorer.set_score_request(amount=True)
        )
        for amount in (np.ones(3), 5.0, np.ones(200)):
            with pytest.raises(ValueError, match="one value per sample"):
                model.fit(X, y, amount=amount)


def test_sparse_per_row_costs_leave_folds_without_a_threshold():
    # Only two rows have a cost: most folds hold neither, and have no cut of
    # their own (NaN), as an infeasible fold; the pooled search still decides.
    X, y = make_classification(1000, random_state=0)
    missed = np.zeros(1000)
    missed[np.flatnonzero(y == 1)[0]] = 10.0
    alarm = np.zeros(1000)
    alarm[np.flatnonzero(y == 0)[0]] = 1.0
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=CostMatrix([[0, "alarm"], ["missed", 0]])
    ).fit(X, y, missed=missed, alarm=alarm)
    assert np.isfinite(model.threshold_)
    assert np.isnan(model.rule_.fold_thresholds_).any()


def test_displays_refuse_metadata_the_objective_does_not_read():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from threshold_estimators.plotting import ThresholdCurveDisplay

    X, y = make_classification(400, random_state=0)
    amount = np.ones(400)
    model = ThresholdTunedClassifier(LogisticRegression(), objective=FRAUD_COSTS)
    model.fit(X, y, amount=amount)
    with pytest.raises(TypeError, match="amountt"):
        ThresholdCurveDisplay.from_estimator(
            model, X, y, metadata={"amount": amount, "amountt": amount}
        )
    with pytest.raises(TypeError, match="must be a dict"):
        ThresholdCurveDisplay.from_estimator(model, X, y, metadata=[amount])
    display = ThresholdCurveDisplay.from_estimator(
        model, X, y, metadata={"amount": amount}
    )
    assert display.threshold == model.threshold_
