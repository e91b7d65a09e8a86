"""One class of a multiclass target tuned against the rest (DESIGN §5)."""

import joblib
import numpy as np
import pytest
from scipy.special import softmax
from sklearn.datasets import load_digits, make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, log_loss, precision_score, recall_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._multiclass import fit_cost_offsets, select_cost_rule
from threshold_estimators.objectives import CostMatrix, PrecisionTarget, RecallTarget


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def model():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05))


def best_recall_at_precision(y_is_k, scores, min_precision):
    """Brute force over every cut: the best recall with precision >= target."""
    best = 0.0
    for threshold in np.unique(scores):
        called = scores >= threshold
        if precision_score(y_is_k, called) >= min_precision:
            best = max(best, recall_score(y_is_k, called))
    return best


@pytest.mark.parametrize("method", ["predict_proba", "decision_function"])
def test_class_five_reaches_the_precision_with_the_best_recall(digits, method):
    X, y = digits
    cv = StratifiedKFold(5)
    tuned = ThresholdTunedClassifier(
        model(),
        objective=PrecisionTarget(0.98),
        pos_label=5,
        cv=cv,
        response_method=method,
    ).fit(X, y)
    oof = cross_val_predict(model(), X, y, cv=cv, method=method)[:, 5]
    called = oof >= tuned.threshold_
    assert precision_score(y == 5, called) >= 0.98
    expected = best_recall_at_precision(y == 5, oof, 0.98)
    assert recall_score(y == 5, called) == pytest.approx(expected)
    assert tuned.best_score_ == pytest.approx(expected)


def test_predict_is_the_class_or_the_best_other(digits):
    X, y = digits
    tuned = ThresholdTunedClassifier(
        model(), objective=RecallTarget(0.99), pos_label=5
    ).fit(X, y)
    proba = tuned.estimator_.predict_proba(X)
    others = proba.copy()
    others[:, 5] = -1
    expected = np.where(proba[:, 5] >= tuned.threshold_, 5, np.argmax(others, axis=1))
    np.testing.assert_array_equal(tuned.predict(X), expected)
    # A low cut (recall >= 0.99) calls class 5 more often than argmax does.
    assert np.sum(tuned.predict(X) == 5) >= np.sum(tuned.estimator_.predict(X) == 5)


@pytest.mark.parametrize(
    "estimator", [model(), make_pipeline(StandardScaler(), LinearSVC())]
)
def test_recalibrated_probabilities_keep_the_decision(digits, estimator):
    X, y = digits
    labels = np.array(list("abcdefghij"))[y]
    tuned = ThresholdTunedClassifier(
        estimator, objective="f1", pos_label="f", recalibrate=True
    ).fit(X, labels)
    proba = tuned.predict_proba(X)
    predictions = tuned.predict(X)
    column = list(tuned.classes_).index("f")
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(predictions == "f", proba[:, column] >= 0.5)
    # Below the cut, the predicted class is the most probable of the others.
    others = proba.copy()
    others[:, column] = -1
    not_f = predictions != "f"
    np.testing.assert_array_equal(
        predictions[not_f], tuned.classes_[np.argmax(others, axis=1)][not_f]
    )
    np.testing.assert_allclose(tuned.predict_log_proba(X), np.log(proba), atol=1e-12)


def test_generic_scorer_sees_the_multiclass_predictions():
    X, y = make_classification(
        n_samples=900, n_classes=3, n_informative=5, random_state=0
    )
    seen = []

    def macro_recall(estimator, X_rows, y_true):
        predicted = estimator.predict(X_rows)
        seen.append(set(np.unique(predicted)))
        return recall_score(y_true, predicted, average="macro")

    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=macro_recall, pos_label=2
    ).fit(X, y)
    assert any(len(labels) == 3 for labels in seen)
    # Same rule as predict: the tuned class above the cut, else the best other.
    oof = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(5), method="predict_proba"
    )
    others = oof.copy()
    others[:, 2] = -1
    decided = np.where(oof[:, 2] >= tuned.threshold_, 2, np.argmax(others, axis=1))
    assert tuned.best_score_ == pytest.approx(recall_score(y, decided, average="macro"))


def test_grid_search_and_persistence(digits, tmp_path):
    X, y = digits
    grid = GridSearchCV(
        ThresholdTunedClassifier(model(), objective=PrecisionTarget(0.9), pos_label=5),
        {"objective__min_precision": [0.9, 0.97]},
        cv=3,
    ).fit(X, y)
    path = tmp_path / "tuned.joblib"
    joblib.dump(grid.best_estimator_, path)
    np.testing.assert_array_equal(
        joblib.load(path).predict(X), grid.best_estimator_.predict(X)
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(pos_label=11), r"pos_label=11 is not a class of y"),
        (
            dict(pos_label=5, objective=CostMatrix(np.ones((10, 10)) - np.eye(10))),
            "leave pos_label=None for the k x k cost rule",
        ),
        (
            dict(objective=CostMatrix(np.ones((3, 3)))),
            r"needs a 10x10 matrix for 10 classes",
        ),
        (dict(objective=CostMatrix(np.ones((10, 10)))), "expresses no preference"),
        (
            dict(objective=CostMatrix(1 - np.eye(10)), recalibrate=True),
            "recalibrate=True is not available with the k x k cost rule",
        ),
    ],
)
def test_multiclass_errors(digits, params, message):
    X, y = digits
    with pytest.raises(ValueError, match=message):
        ThresholdTunedClassifier(model(), **params).fit(X, y)


def test_cost_rule_needs_probabilities(digits):
    X, y = digits
    with pytest.raises(ValueError, match="The k x k cost rule needs predict_proba"):
        ThresholdTunedClassifier(LinearSVC(), objective=CostMatrix(1 - np.eye(10))).fit(
            X, y
        )


def brute_force_best_f1(truth, scores):
    """F1 of every cut ``scores >= t`` at once (a cuts x samples matrix)."""
    called = scores[None, :] >= np.unique(scores)[:, None]
    tp = (called & truth).sum(axis=1)
    return np.max(2 * tp / (called.sum(axis=1) + truth.sum()))


def oof_matrix(estimator, X, y, method="predict_proba"):
    return cross_val_predict(estimator, X, y, cv=StratifiedKFold(5), method=method)


@pytest.mark.parametrize("method", ["predict_proba", "decision_function"])
def test_every_class_gets_its_exact_one_vs_rest_threshold(digits, method):
    X, y = digits
    tuned = ThresholdTunedClassifier(model(), response_method=method).fit(X, y)
    oof = oof_matrix(model(), X, y, method)
    class_best = []
    for k in range(10):
        best = brute_force_best_f1(y == k, oof[:, k])
        assert f1_score(y == k, oof[:, k] >= tuned.threshold_[k]) == pytest.approx(best)
        class_best.append(best)
    assert tuned.best_score_ == pytest.approx(np.mean(class_best))
    # Each sample goes to the class that clears its threshold by the most.
    raw = getattr(tuned.estimator_, method)(X)
    if method == "predict_proba":
        raw = np.clip(raw, 1e-15, 1 - 1e-15)
        margin = np.log(raw / (1 - raw)) - np.log(
            tuned.threshold_ / (1 - tuned.threshold_)
        )
    else:
        margin = raw - tuned.threshold_
    np.testing.assert_array_equal(tuned.predict(X), np.argmax(margin, axis=1))


def test_every_class_recalibrated_agrees_with_argmax(digits):
    X, y = digits
    labels = np.array(list("abcdefghij"))[y]
    tuned = ThresholdTunedClassifier(model(), recalibrate=True).fit(X, labels)
    raw = tuned.estimator_.predict_proba(X)
    for column, calibrator in enumerate(tuned.calibrator_):
        # Each class's operating probability is >= 0.5 exactly above its cut.
        np.testing.assert_array_equal(
            calibrator.predict_proba(raw[:, column])[:, 1] >= 0.5,
            raw[:, column] >= tuned.threshold_[column],
        )
    # Far from the data too: no NaN, and predict is the argmax of predict_proba.
    for rows in (X, X * 100, -X * 100):
        proba = tuned.predict_proba(rows)
        assert np.all(np.isfinite(proba))
        np.testing.assert_allclose(proba.sum(axis=1), 1)
        np.testing.assert_array_equal(
            tuned.predict(rows), tuned.classes_[np.argmax(proba, axis=1)]
        )


def test_every_class_with_weights_and_sparse_labels():
    X, y = make_classification(
        n_samples=1_200, n_classes=3, n_informative=6, random_state=1
    )
    labels = np.array([2, 5, 9])[y]
    weight = np.random.default_rng(0).uniform(0.2, 3, y.size)
    tuned = ThresholdTunedClassifier(LogisticRegression()).fit(
        X, labels, sample_weight=weight
    )
    oof = cross_val_predict(
        LogisticRegression(),
        X,
        labels,
        cv=StratifiedKFold(5),
        method="predict_proba",
        params={"sample_weight": weight},
    )
    for column, label in enumerate([2, 5, 9]):
        truth = labels == label
        best = max(
            f1_score(truth, oof[:, column] >= t, sample_weight=weight)
            for t in np.unique(oof[:, column])
        )
        reached = f1_score(
            truth, oof[:, column] >= tuned.threshold_[column], sample_weight=weight
        )
        assert reached == pytest.approx(best)
    assert set(np.unique(tuned.predict(X))) <= {2, 5, 9}


def test_cost_offsets_cannot_be_improved_one_at_a_time():
    """Tied probabilities (a binned model): each offset is a one-dimensional optimum."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        distinct = rng.dirichlet(np.ones(3), size=4)
        proba = distinct[rng.integers(0, 4, 40)]
        y_index = np.array([rng.choice(3, p=p) for p in proba])
        matrix = 1 - np.eye(3)
        matrix[rng.integers(0, 3)] *= rng.uniform(2, 10)
        offsets, cost = fit_cost_offsets(matrix, y_index, proba)
        expected = proba @ matrix
        bayes = matrix[y_index, np.argmin(expected, axis=1)].mean()
        assert cost <= bayes + 1e-12
        for k in range(3):
            for delta in np.linspace(-5, 5, 2001):
                trial = offsets.copy()
                trial[k] = delta
                other = matrix[y_index, np.argmin(expected - trial, axis=1)].mean()
                assert other >= cost - 1e-12


def test_cost_rule_falls_back_when_offsets_do_not_validate():
    """Calibrated probabilities: offsets fitted on other folds cannot beat Bayes."""
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=300)
    y_index = np.array([rng.choice(3, p=p) for p in proba])  # calibrated
    fold = np.arange(300) % 5
    matrix = 1 - np.eye(3)
    rule, offsets, temperature, cost = select_cost_rule(
        matrix, y_index, proba, None, fold
    )
    assert rule == "bayes"
    np.testing.assert_array_equal(offsets, 0)
    # Calibrated: the log-loss is best near the identity temperature.
    assert 0.7 < temperature < 1.4
    tempered = softmax(np.log(proba) / temperature, axis=1)
    decision = np.argmin(tempered @ matrix, axis=1)
    assert cost == pytest.approx(matrix[y_index, decision].mean())


def test_cost_rule_temperature_minimizes_the_log_loss():
    """Oracle: sklearn's log_loss over a fine grid of temperatures."""
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(400, 4)) * 3
    y_index = np.array([rng.choice(4, p=p) for p in softmax(logits / 3, axis=1)])
    proba = softmax(logits, axis=1)  # three times too confident
    weight = rng.uniform(0.5, 2, 400)
    _, _, temperature, _ = select_cost_rule(
        1 - np.eye(4), y_index, proba, weight, np.arange(400) % 5
    )
    grid = np.exp(np.linspace(-1, 2.5, 3501))
    losses = [
        log_loss(y_index, softmax(logits / t, axis=1), sample_weight=weight)
        for t in grid
    ]
    assert temperature == pytest.approx(grid[np.argmin(losses)], rel=2e-3)
    assert 2 < temperature < 4


def test_cost_rule_keeps_offsets_that_validate():
    """A prior shift the temperature cannot fix: class 2's probability is
    divided by 6, so plug-in Bayes under-calls it; offsets recover."""
    rng = np.random.default_rng(2)
    true = rng.dirichlet(np.full(3, 0.3), size=3000)
    y_index = np.array([rng.choice(3, p=p) for p in true])
    shifted = true * np.array([1, 1, 1 / 6])
    shifted /= shifted.sum(axis=1, keepdims=True)
    matrix = 1 - np.eye(3)
    matrix[2] *= 3
    rule, offsets, temperature, cost = select_cost_rule(
        matrix, y_index, shifted, None, np.arange(3000) % 5
    )
    assert rule == "offsets"
    tempered = softmax(np.log(shifted) / temperature, axis=1)
    bayes = matrix[y_index, np.argmin(tempered @ matrix, axis=1)].mean()
    assert cost == pytest.approx(
        matrix[y_index, np.argmin(tempered @ matrix - offsets, axis=1)].mean()
    )
    assert cost < bayes
    # The offsets favour the under-called class.
    assert offsets[2] > max(offsets[0], offsets[1])


def test_every_class_needs_a_model_of_the_same_classes(digits):
    X, y = digits
    three = LogisticRegression().fit(X[y < 3], y[y < 3])
    with pytest.raises(ValueError, match=r"knows the classes \[0, 1, 2\], but y holds"):
        ThresholdTunedClassifier(FrozenEstimator(three)).fit(X[y < 4], y[y < 4])


def test_one_vs_one_decision_function_is_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="one-vs-one decision_function"):
        ThresholdTunedClassifier(SVC(decision_function_shape="ovo"), pos_label=2).fit(
            X[y < 3], y[y < 3]
        )


def test_cost_rule_decides_and_reports_what_it_kept(digits):
    X, y = digits
    matrix = 1 - np.eye(10)
    matrix[5] *= 8  # missing a 5 costs 8
    tuned = ThresholdTunedClassifier(
        model(), objective=CostMatrix(matrix), store_cv_results=True
    ).fit(X, y)
    assert tuned.cost_rule_ in {"offsets", "bayes"}
    if tuned.cost_rule_ == "bayes":
        np.testing.assert_array_equal(tuned.threshold_, 0)
    oof = oof_matrix(model(), X, y)
    tempered = softmax(np.log(np.clip(oof, 1e-15, 1)) / tuned.cost_temperature_, 1)
    decision = np.argmin(tempered @ matrix - tuned.threshold_, axis=1)
    assert -tuned.best_score_ == pytest.approx(matrix[y, decision].mean())
    assert tuned.cv_results_["cost"] == pytest.approx(-tuned.best_score_)
    assert tuned.cv_results_["temperature"] == tuned.cost_temperature_
    assert tuned.threshold_std_ is None
    proba = tuned.estimator_.predict_proba(X)
    tempered = softmax(np.log(np.clip(proba, 1e-15, 1)) / tuned.cost_temperature_, 1)
    np.testing.assert_array_equal(
        tuned.predict(X), np.argmin(tempered @ matrix - tuned.threshold_, axis=1)
    )


def _held_out_costs(X, y, matrix, estimator, seeds):
    """Per split: the cost rule's held-out cost minus argmax's and Bayes's."""
    versus_argmax, versus_bayes = [], []
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.5, stratify=y, random_state=seed
        )
        cost = ThresholdTunedClassifier(estimator, objective=CostMatrix(matrix))
        cost.fit(X_train, y_train)
        proba = cost.estimator_.predict_proba(X_test)
        ours = matrix[y_test, cost.predict(X_test)].mean()
        versus_argmax.append(ours - matrix[y_test, np.argmax(proba, axis=1)].mean())
        versus_bayes.append(
            ours - matrix[y_test, np.argmin(proba @ matrix, axis=1)].mean()
        )
    return np.mean(versus_argmax), np.mean(versus_bayes)


@pytest.mark.slow
def test_cost_rule_held_out_on_synthetic_data():
    X, y = make_classification(
        n_samples=3000,
        n_classes=4,
        n_informative=6,
        weights=[0.55, 0.25, 0.15, 0.05],
        flip_y=0.03,
        random_state=3,
    )
    matrix = 1 - np.eye(4)
    matrix[3] *= 15  # missing the rare class
    versus_argmax, versus_bayes = _held_out_costs(X, y, matrix, model(), seeds=range(4))
    assert versus_argmax <= 0
    assert versus_bayes <= 0


@pytest.mark.slow
def test_held_out_gains_on_average_over_repeated_splits(digits):
    """Macro-F1 of per-class F1 thresholds >= argmax's; cost rule <= both rivals."""
    X, y = digits
    matrix = 1 - np.eye(10)
    matrix[5] *= 8
    f1_gain = []
    for seed in range(4):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.5, stratify=y, random_state=seed
        )
        tuned = ThresholdTunedClassifier(model()).fit(X_train, y_train)
        f1_gain.append(
            f1_score(y_test, tuned.predict(X_test), average="macro")
            - f1_score(y_test, tuned.estimator_.predict(X_test), average="macro")
        )
    assert np.mean(f1_gain) >= 0
    versus_argmax, versus_bayes = _held_out_costs(X, y, matrix, model(), range(4))
    assert versus_argmax <= 0
    assert versus_bayes <= 0
