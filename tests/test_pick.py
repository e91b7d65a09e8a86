"""pick_threshold: the exact search as a function, against brute force."""

from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    make_scorer,
    precision_score,
    recall_score,
)

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FixedThreshold,
    PrecisionTarget,
)
from threshold_estimators.plotting import ThresholdCurveDisplay


def weighted_counts(y, called, weight):
    return confusion_matrix(y, called, sample_weight=weight, labels=[0, 1]).ravel()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 12), st.integers(1, 4)),
        min_size=2,
        max_size=60,
    ).filter(lambda rows: len({r[0] for r in rows}) == 2),
    st.booleans(),
)
def test_f1_pick_is_the_best_cut(rows, weighted):
    y = np.array([r[0] for r in rows], dtype=int)
    scores = np.array([r[1] for r in rows]) / 12  # few values: many ties
    weight = np.array([r[2] for r in rows], dtype=float) if weighted else None
    pick = pick_threshold(y, scores, "f1", sample_weight=weight)
    best = max(
        f1_score(y, scores >= cut, sample_weight=weight, zero_division=0)
        for cut in [*np.unique(scores), np.inf]
    )
    called = scores >= pick.threshold
    assert pick.score == pytest.approx(best, abs=1e-12)
    assert f1_score(y, called, sample_weight=weight) == pytest.approx(best, abs=1e-12)
    tn, fp, fn, tp = weighted_counts(y, called, weight)
    assert (pick.tp, pick.fp, pick.tn, pick.fn) == pytest.approx((tp, fp, tn, fn))
    assert pick.recall == pytest.approx(recall_score(y, called, sample_weight=weight))


def test_precision_target_and_labels_with_a_named_positive_class():
    X, y01 = make_classification(n_samples=3_000, weights=[0.8], random_state=0)
    scores = LogisticRegression().fit(X, y01).predict_proba(X)[:, 1]
    y = np.where(y01 == 1, "fraud", "ok")
    pick = pick_threshold(y, scores, PrecisionTarget(0.9), pos_label="fraud")
    called = scores >= pick.threshold
    assert precision_score(y01, called) >= 0.9
    best_recall = max(
        recall_score(y01, scores >= cut)
        for cut in np.unique(scores)
        if precision_score(y01, scores >= cut, zero_division=0) >= 0.9
    )
    assert pick.recall == recall_score(y01, called) == best_recall
    assert pick.pos_label == "fraud"


def test_cost_matrix_is_the_cheapest_cut():
    rng = np.random.RandomState(3)
    y = rng.randint(0, 2, 500)
    scores = np.round(rng.uniform(size=500) * 0.6 + 0.4 * y, 2)
    matrix = [[0, 1], [7, 0]]
    pick = pick_threshold(y, scores, CostMatrix(matrix))

    def cost(cut):
        _, fp, fn, _ = weighted_counts(y, scores >= cut, None)
        return (fp * 1 + fn * 7) / len(y)

    assert -pick.score == pytest.approx(min(cost(c) for c in np.unique(scores)))
    assert cost(pick.threshold) == pytest.approx(-pick.score)


def test_fixed_threshold_reports_the_cut():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 200)
    scores = rng.uniform(size=200)
    pick = pick_threshold(y, scores, FixedThreshold(0.25))
    called = scores >= 0.25
    assert pick.threshold == 0.25
    assert pick.score == pytest.approx(f1_score(y, called))
    tn, fp, fn, tp = weighted_counts(y, called, None)
    assert (pick.tp, pick.fp, pick.tn, pick.fn) == (tp, fp, tn, fn)


def test_float32_scores_get_a_float32_cut():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 1_000)
    scores = rng.uniform(size=1_000).astype(np.float32)
    pick = pick_threshold(y, scores)
    assert np.float32(pick.threshold) == pick.threshold
    called = scores >= np.float32(pick.threshold)
    assert f1_score(y, called) == pytest.approx(pick.score)


def test_multiclass_labels_tune_the_named_class_against_the_rest():
    y = np.array([0, 1, 2, 2, 1, 0, 2, 2])
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.2, 0.4, 0.7])
    pick = pick_threshold(y, scores, pos_label=2)
    assert pick.threshold == pytest.approx(0.35)
    assert (pick.tp, pick.fp) == (4, 0)
    with pytest.raises(ValueError, match="pass pos_label"):
        pick_threshold(y, scores)


@pytest.mark.parametrize(
    "y, scores, kwargs, message",
    [
        ([0, 1, 1], [0.1, 0.2], {}, "same length"),
        ([0, 1], [0.1, np.nan], {}, "finite"),
        ([0, 1], [[0.1, 0.9], [0.2, 0.8]], {}, "1-D"),
        ([0, 0], [0.1, 0.2], {}, "two classes"),
        ([0, 1], [0.1, 0.2], {"sample_weight": [1, -1]}, "sample_weight"),
        ([0, 1], [0.1, 0.2], {"pos_label": 3}, "not a class"),
        ([0, 1], ["a", "b"], {}, "real numbers"),
    ],
)
def test_bad_input_gets_a_clear_error(y, scores, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pick_threshold(y, scores, **kwargs)


def test_metadata_nobody_requests_is_refused():
    with pytest.raises(TypeError, match="amount"):
        pick_threshold([0, 1], [0.1, 0.9], amount=[1, 2])


def test_prefit_estimator_agrees_with_pick_threshold():
    X, y = make_classification(n_samples=2_000, weights=[0.7], random_state=1)
    model = LogisticRegression().fit(X[:1_000], y[:1_000])
    tuned = ThresholdTunedClassifier(
        model, cv="prefit", objective=PrecisionTarget(0.8)
    ).fit(X[1_000:], y[1_000:])
    pick = pick_threshold(
        y[1_000:], model.predict_proba(X[1_000:])[:, 1], PrecisionTarget(0.8)
    )
    assert tuned.threshold_ == pick.threshold
    assert tuned.best_score_ == pick.score
    assert tuned.rule_.counts_ == {
        k: getattr(pick, k) for k in ("tp", "fp", "tn", "fn")
    }


class CountingModel(ClassifierMixin, BaseEstimator):
    """Counts get_params calls, which a prediction must not make."""

    calls = 0

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def decision_function(self, X):
        return self.model_.decision_function(X)

    def get_params(self, deep=True):
        CountingModel.calls += 1
        return super().get_params(deep=deep)


def test_multiclass_predict_reads_no_parameters():
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )
    tuned = ThresholdTunedClassifier(CountingModel(), cv=3).fit(X, y)
    CountingModel.calls = 0
    tuned.predict(X)
    assert CountingModel.calls == 0


def test_display_reads_the_fitted_objective_not_the_parameter():
    pytest.importorskip("matplotlib")
    X, y = make_classification(n_samples=500, random_state=0)
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=F1(), store_cv_results=True
    ).fit(X, y)
    tuned.set_params(objective=PrecisionTarget(0.9))
    display = ThresholdCurveDisplay.from_estimator(tuned)
    assert display.objective_name == "F1"
    assert display.target is None
    np.testing.assert_array_equal(
        display.objective_score, tuned.cv_results_["objective"]
    )
    assert type(tuned.objective_) is F1


def test_a_model_saved_before_rules_asks_to_be_refitted():
    path = Path(__file__).parent / "regression" / "model_before_rules.joblib"
    with pytest.raises(ValueError, match="Refit it with this version"):
        joblib.load(path)


def test_a_scorer_sees_the_labels_and_rows_of_no_feature():
    y = np.array(list("nnppnppn"))
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.6, 0.7])
    scorer = make_scorer(f1_score, pos_label="p")
    pick = pick_threshold(y, scores, scorer, pos_label="p")
    best = max(f1_score(y == "p", scores >= cut) for cut in np.unique(scores))
    assert pick.score == pytest.approx(best)

    def reads_rows(estimator, X, y_true):
        assert X.shape == (len(y_true), 0)
        return f1_score(y_true, estimator.predict(X), pos_label="p")

    assert pick_threshold(y, scores, reads_rows, pos_label="p").score == pick.score


def test_a_scorer_on_one_class_of_many_is_refused():
    y = np.array([0, 1, 2, 2, 1, 0, 2, 2])
    scores = np.linspace(0, 1, 8)
    with pytest.raises(ValueError, match="needs the rows"):
        pick_threshold(y, scores, make_scorer(f1_score, average="macro"), pos_label=2)


@pytest.mark.parametrize("objective", [None, 3, "f_1", F1])
def test_an_objective_of_no_known_kind_is_refused_by_name(objective):
    with pytest.raises((ValueError, TypeError), match="objective"):
        pick_threshold([0, 1], [0.1, 0.9], objective)


def test_picks_compare_by_their_decision():
    y, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    first, second = pick_threshold(y, scores), pick_threshold(y, scores)
    assert first == second and hash(first) == hash(second)
    assert not isinstance(FixedThreshold(0.3), F1)


def test_moving_a_copys_cut_leaves_the_original():
    import copy

    X, y = make_classification(n_samples=300, random_state=0)
    model = ThresholdTunedClassifier(LogisticRegression(), cv=3).fit(X, y)
    original = model.threshold_
    strict = copy.copy(model)
    strict.threshold_ = 0.9
    assert model.threshold_ == original
    np.testing.assert_array_equal(
        strict.predict(X), (model.estimator_.predict_proba(X)[:, 1] >= 0.9)
    )


def test_a_frozen_one_vs_one_svc_is_refused():
    from sklearn.frozen import FrozenEstimator
    from sklearn.svm import SVC

    X, y = make_classification(
        n_samples=200, n_classes=3, n_informative=4, random_state=0
    )
    frozen = FrozenEstimator(SVC(decision_function_shape="ovo").fit(X, y))
    with pytest.raises(ValueError, match="one-vs-one"):
        ThresholdTunedClassifier(frozen, cv=3).fit(X, y)


def test_the_command_line_says_to_refit_a_model_saved_before_rules(tmp_path, capsys):
    from threshold_estimators.cli import main

    path = Path(__file__).parent / "regression" / "model_before_rules.joblib"
    data = tmp_path / "data.csv"
    data.write_text("a,b,c,d\n0,0,0,0\n")
    assert main(["predict", str(path), str(data)]) == 1
    err = capsys.readouterr().err
    assert "Refit it with this version" in err
    assert "not a model file written by joblib" not in err
