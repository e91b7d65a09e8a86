"""ThresholdTunedClassifier: the threshold against an independent brute-force oracle."""

import pickle
import warnings

import numpy as np
import pytest
from conftest import oof_best_value
from sklearn.datasets import load_breast_cancer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    make_scorer,
    precision_score,
    recall_score,
)
from sklearn.model_selection import (
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._retarget import recorded_nbytes
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    PrecisionTarget,
    RecallTarget,
    ScorerObjective,
)


@pytest.mark.parametrize("weighted", [False, True])
def test_threshold_is_the_exact_optimum_of_independent_oof_scores(data, weighted):
    X, y = data
    w = np.random.default_rng(1).uniform(0.2, 3.0, y.size) if weighted else None
    cv = StratifiedKFold(5)
    oof = cross_val_predict(
        LogisticRegression(),
        X,
        y,
        cv=cv,
        method="predict_proba",
        params={"sample_weight": w} if weighted else None,
    )[:, 1]

    def recall(y_pred):
        return recall_score(y, y_pred, sample_weight=w)

    def precision_ok(y_pred):
        return y_pred.any() and precision_score(y, y_pred, sample_weight=w) >= 0.8

    def cost(y_pred):
        fn = np.sum(w_or_1 * ((y == 1) & (y_pred == 0)))
        fp = np.sum(w_or_1 * ((y == 0) & (y_pred == 1)))
        return -(20 * fn + 3 * fp) / np.sum(w_or_1)

    w_or_1 = np.ones(y.size) if w is None else w
    cases = [
        (F1(), lambda p: f1_score(y, p, sample_weight=w), lambda p: True),
        (PrecisionTarget(0.8), recall, precision_ok),
        (CostMatrix([[0, 3], [20, 0]]), cost, lambda p: True),
    ]
    for objective, value, feasible in cases:
        model = ThresholdTunedClassifier(
            LogisticRegression(), objective=objective, cv=cv
        )
        model.fit(X, y, sample_weight=w)
        expected = oof_best_value(y, oof, value, feasible)
        assert model.best_score_ == pytest.approx(expected, abs=1e-12)
        # The threshold reproduces that optimum on the OOF scores ...
        oof_pred = (oof >= model.threshold_).astype(int)
        assert feasible(oof_pred)
        assert value(oof_pred) == pytest.approx(expected, abs=1e-12)
        # ... and the refit model predicts with it.
        refit = LogisticRegression().fit(X, y, sample_weight=w)
        np.testing.assert_allclose(model.estimator_.coef_, refit.coef_)
        expected_pred = (refit.predict_proba(X)[:, 1] >= model.threshold_).astype(int)
        np.testing.assert_array_equal(model.predict(X), expected_pred)


def test_beats_or_matches_sklearn_tuner_on_its_own_oof_objective(data):
    from sklearn.model_selection import TunedThresholdClassifierCV

    X, y = data
    cv = StratifiedKFold(5)
    ours = ThresholdTunedClassifier(LogisticRegression(), objective="f1", cv=cv).fit(
        X, y
    )
    theirs = TunedThresholdClassifierCV(LogisticRegression(), scoring="f1", cv=cv)
    theirs.fit(X, y)
    oof = cross_val_predict(LogisticRegression(), X, y, cv=cv, method="predict_proba")
    ours_f1 = f1_score(y, oof[:, 1] >= ours.threshold_)
    assert ours_f1 >= f1_score(y, oof[:, 1] >= theirs.best_threshold_)


def test_integer_weights_count_like_repeated_rows(data):
    X, y = data
    prefit = LogisticRegression().fit(X[:300], y[:300])
    w = np.random.default_rng(0).integers(0, 4, 300)
    w[:2] = 1
    X_tune, y_tune = X[300:], y[300:]
    weighted = ThresholdTunedClassifier(
        FrozenEstimator(prefit), objective=PrecisionTarget(0.7)
    ).fit(X_tune, y_tune, sample_weight=w)
    repeated = ThresholdTunedClassifier(
        FrozenEstimator(prefit), objective=PrecisionTarget(0.7), cv="prefit"
    ).fit(np.repeat(X_tune, w, axis=0), np.repeat(y_tune, w))
    assert weighted.best_score_ == pytest.approx(repeated.best_score_)
    kept = np.repeat(X_tune, w, axis=0)
    np.testing.assert_array_equal(weighted.predict(kept), repeated.predict(kept))


def test_default_pos_label(data):
    X, y = data
    with pytest.warns(UserWarning, match="pos_label=None: tuning the decision for"):
        model = ThresholdTunedClassifier(LogisticRegression()).fit(X, y + 2)
    assert model.pos_label_ == 3

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            ThresholdTunedClassifier(LogisticRegression()).fit(X, 2 * y - 1).pos_label_
            == 1
        )
        assert (
            ThresholdTunedClassifier(LogisticRegression())
            .fit(X, y.astype(bool))
            .pos_label_
        )


def test_generic_scorer_is_exact_when_few_distinct_scores(data):
    X, y = data
    scorer = make_scorer(f1_score, average="macro")
    model = ThresholdTunedClassifier(
        DecisionTreeClassifier(max_depth=3, random_state=0), objective=scorer
    ).fit(X, y)
    oof = cross_val_predict(
        DecisionTreeClassifier(max_depth=3, random_state=0),
        X,
        y,
        cv=StratifiedKFold(5),
        method="predict_proba",
    )[:, 1]
    expected = oof_best_value(y, oof, lambda p: f1_score(y, p, average="macro"))
    assert model.best_score_ == pytest.approx(expected)


def test_cv_results(data):
    X, y = data
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=RecallTarget(0.9), store_cv_results=True
    ).fit(X, y)
    results = model.cv_results_
    n = results["thresholds"].size
    for key in ("objective", "precision", "recall", "tp", "fp", "tn", "fn"):
        assert results[key].shape == (n,)
    assert results["fold_thresholds"].shape == (5,)
    assert results["fold_threshold_std"] == pytest.approx(
        np.std(results["fold_thresholds"])
    )
    best = np.flatnonzero(results["thresholds"] >= model.threshold_)[-1]
    assert results["objective"][best] == model.best_score_
    assert not hasattr(
        ThresholdTunedClassifier(LogisticRegression()).fit(X, y), "cv_results_"
    )


def test_demo_story_on_breast_cancer():
    """Tighter precision targets move the threshold up."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(
        X[:, :2], y, stratify=y, test_size=0.4, random_state=0
    )
    thresholds = []
    for target in (0.7, 0.8, 0.9):
        model = ThresholdTunedClassifier(
            make_pipeline(StandardScaler(), LogisticRegression()),
            objective=PrecisionTarget(target),
            pos_label=0,
        ).fit(X_train, y_train)
        thresholds.append(model.threshold_)
    assert thresholds == sorted(thresholds)


def test_zero_weights_act_as_removed_rows(data):
    X, y = data
    prefit = LogisticRegression().fit(X[:300], y[:300])
    X_tune, y_tune = X[300:], y[300:]
    w = np.ones(300)
    w[::3] = 0
    weighted = ThresholdTunedClassifier(FrozenEstimator(prefit)).fit(
        X_tune, y_tune, sample_weight=w
    )
    removed = ThresholdTunedClassifier(FrozenEstimator(prefit)).fit(
        X_tune[w > 0], y_tune[w > 0]
    )
    assert weighted.threshold_ == removed.threshold_
    assert weighted.best_score_ == removed.best_score_


@pytest.mark.parametrize("pos_label", ["spam", "ham"])
def test_either_class_tuned_against_the_oracle(data, pos_label):
    """String labels, the first or the second class tuned, with a cost matrix."""
    X, y01 = data
    y = np.where(y01 == 1, "spam", "ham")
    matrix = [[0, 4], [9, 0]]  # classes_ order: ham, spam
    cv = StratifiedKFold(5)
    for method in ("predict_proba", "decision_function"):
        model = ThresholdTunedClassifier(
            LogisticRegression(),
            objective=CostMatrix(matrix),
            pos_label=pos_label,
            response_method=method,
            cv=cv,
        ).fit(X, y)
        raw = cross_val_predict(LogisticRegression(), X, y, cv=cv, method=method)
        if method == "predict_proba":
            oof = raw[:, ["ham", "spam"].index(pos_label)]
        else:
            oof = raw if pos_label == "spam" else -raw
        other = "ham" if pos_label == "spam" else "spam"

        def neg_cost(decide_positive, oof=oof, other=other):
            predicted = np.where(decide_positive, pos_label, other)
            counts = confusion_matrix(y, predicted, labels=["ham", "spam"])
            return -np.sum(np.asarray(matrix) * counts) / y.size

        expected = oof_best_value(np.zeros_like(y01), oof, neg_cost)
        assert model.best_score_ == pytest.approx(expected, abs=1e-12)
        assert neg_cost(oof >= model.threshold_) == pytest.approx(expected)
        # predict applies the threshold to the tuned class's score.
        score = model.estimator_.predict_proba(X)[:, ["ham", "spam"].index(pos_label)]
        if method == "decision_function":
            df = model.estimator_.decision_function(X)
            score = df if pos_label == "spam" else -df
        np.testing.assert_array_equal(
            model.predict(X), np.where(score >= model.threshold_, pos_label, other)
        )


@pytest.mark.parametrize(
    "labels, pos_label",
    [
        ([0, 1], 1),
        ([0, 1], 0),
        ([False, True], True),
        ([False, True], False),
        ([0.0, 1.0], 1.0),
        ([np.uint8(0), np.uint8(1)], np.uint8(0)),
        ([-1, 1], 1),
        ([1, 2], 1),
        (["no", "yes"], "yes"),
    ],
)
def test_binary_predict_returns_the_labels_of_the_thresholded_score(
    data, labels, pos_label
):
    """Every label encoding gives ``where(score >= threshold_, pos, other)``."""
    X, y01 = data
    y = np.asarray(labels)[y01]
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.9), pos_label=pos_label
    ).fit(X, y)
    column = int(np.flatnonzero(model.classes_ == pos_label)[0])
    score = model.estimator_.predict_proba(X)[:, column]
    other = model.classes_[1 - column]
    predicted = model.predict(X)
    assert predicted.dtype == model.classes_.dtype
    expected = np.where(score >= model.threshold_, pos_label, other)
    np.testing.assert_array_equal(predicted, expected)
    # Neither class is empty, so a swapped or constant answer cannot pass.
    assert 0 < np.mean(expected == pos_label) < 1


@pytest.mark.parametrize(
    "objective",
    [F1(), PrecisionTarget(0.9), RecallTarget(0.9), CostMatrix([[0, 1], [5, 0]])],
)
def test_decision_function_and_probabilities_give_the_same_cut(data, objective):
    """Logistic regression's probability increases with its decision function: the
    out-of-fold search must pick the same rows, whichever it tunes on."""
    X, y = data
    cv = StratifiedKFold(5)
    decisions = {}
    for method in ("predict_proba", "decision_function"):
        model = ThresholdTunedClassifier(
            LogisticRegression(), objective=objective, response_method=method, cv=cv
        ).fit(X, y)
        oof = cross_val_predict(LogisticRegression(), X, y, cv=cv, method=method)
        oof = oof[:, 1] if method == "predict_proba" else oof
        decisions[method] = oof >= model.threshold_
        assert 0 < decisions[method].mean() < 1
    np.testing.assert_array_equal(
        decisions["predict_proba"], decisions["decision_function"]
    )


def test_scorer_gets_the_real_rows_and_a_bounded_grid(data):
    """A scorer using X (amount-weighted gains) on > 256 distinct scores."""
    X, y = data
    amount = np.abs(X[:, 0]) * 100

    def amount_caught(estimator, X_rows, y_true):
        predicted = estimator.predict(X_rows)
        rows_amount = np.abs(X_rows[:, 0]) * 100
        return np.sum(rows_amount * ((predicted == 1) & (y_true == 1))) - np.sum(
            rows_amount * ((predicted == 1) & (y_true == 0))
        )

    objective = ScorerObjective(amount_caught, n_candidates=40)
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=objective, store_cv_results=True
    ).fit(X, y)
    oof = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(5), method="predict_proba"
    )[:, 1]
    evaluated = np.isfinite(model.cv_results_["objective"])
    assert 2 < evaluated.sum() <= 40
    candidates = model.cv_results_["thresholds"][evaluated]

    def gain(threshold):
        caught = oof >= threshold
        return np.sum(amount * (caught & (y == 1))) - np.sum(
            amount * (caught & (y == 0))
        )

    expected = max(gain(t) for t in candidates)
    assert model.best_score_ == pytest.approx(expected)
    assert gain(model.threshold_) == pytest.approx(expected)


def test_each_fold_threshold_is_that_folds_optimum(data):
    X, y = data
    cv = StratifiedKFold(4)
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective="f1", cv=cv, store_cv_results=True
    ).fit(X, y)
    oof = cross_val_predict(LogisticRegression(), X, y, cv=cv, method="predict_proba")
    for fold, (_, test) in enumerate(cv.split(X, y)):
        fold_y, fold_score = y[test], oof[test, 1]
        best = oof_best_value(fold_y, fold_score, lambda p, t=fold_y: f1_score(t, p))
        threshold = model.cv_results_["fold_thresholds"][fold]
        assert f1_score(fold_y, fold_score >= threshold) == pytest.approx(best)


def test_pickled_model_does_not_carry_the_training_curve(data):
    X, y = data
    big_X = np.repeat(X, 30, axis=0) + np.random.default_rng(0).normal(
        0, 1e-3, (30 * len(X), X.shape[1])
    )
    big_y = np.repeat(y, 30)
    lean = ThresholdTunedClassifier(LogisticRegression(), retargetable=False)
    assert len(pickle.dumps(lean.fit(big_X, big_y))) < 20_000
    # Kept for retarget: 10 bytes per row (score, fold, label), no curve.
    model = ThresholdTunedClassifier(LogisticRegression()).fit(big_X, big_y)
    assert recorded_nbytes(model.out_of_fold_) == 10 * big_y.size
    assert len(pickle.dumps(model)) < 20_000 + 10 * big_y.size
