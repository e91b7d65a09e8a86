"""ThresholdTunedClassifier: exactness against an independent oracle, and the API."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, make_scorer, precision_score, recall_score
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    PrecisionTarget,
    RecallTarget,
)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=600, n_features=8, weights=[0.75], flip_y=0.05, random_state=0
    )
    return X, y


def oof_best(y, oof, value, feasible=lambda y_pred: True):
    """Brute force over every cut of the out-of-fold scores."""
    cuts = np.concatenate(([np.inf], np.unique(oof)))
    results = [
        value((oof >= t).astype(int)) for t in cuts if feasible((oof >= t).astype(int))
    ]
    return max(results)


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
        expected = oof_best(y, oof, value, feasible)
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


@pytest.mark.parametrize("method", ["predict_proba", "decision_function"])
@pytest.mark.parametrize("pos_label", ["spam", "ham"])
def test_string_labels_and_either_class_tuned(data, method, pos_label):
    X, y01 = data
    y = np.where(y01 == 1, "spam", "ham")
    model = ThresholdTunedClassifier(
        LogisticRegression(),
        objective=PrecisionTarget(0.85),
        pos_label=pos_label,
        response_method=method,
    ).fit(X, y)
    assert model.pos_label_ == pos_label
    np.testing.assert_array_equal(model.classes_, ["ham", "spam"])
    raw = getattr(model.estimator_, method)(X)
    score = (
        raw[:, list(model.classes_).index(pos_label)]
        if raw.ndim == 2
        else (raw if pos_label == "spam" else -raw)
    )
    expected = np.where(score >= model.threshold_, pos_label, "XX")
    other = "ham" if pos_label == "spam" else "spam"
    np.testing.assert_array_equal(
        model.predict(X), np.where(expected == "XX", other, expected)
    )
    # The tuned class reaches the precision on the out-of-fold data (checked
    # independently) - here on the training data as a sanity check of direction.
    assert precision_score(y, model.predict(X), pos_label=pos_label) > 0.7


def test_default_pos_label(data):
    X, y = data
    with pytest.warns(UserWarning, match="pos_label=None: tuning the decision for"):
        model = ThresholdTunedClassifier(LogisticRegression()).fit(X, y + 2)
    assert model.pos_label_ == 3
    import warnings

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


def test_dataframe_keeps_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = ThresholdTunedClassifier(LogisticRegression()).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.n_features_in_ == X.shape[1]
    expected = model.estimator_.predict_proba(frame)[:, 1] >= model.threshold_
    np.testing.assert_array_equal(model.predict(frame), expected.astype(int))


def test_pipeline_both_ways(data):
    X, y = data
    inside = ThresholdTunedClassifier(
        make_pipeline(StandardScaler(), LogisticRegression())
    ).fit(X, y)
    outside = make_pipeline(
        StandardScaler(), ThresholdTunedClassifier(LogisticRegression())
    ).fit(X, y)
    assert inside.predict(X).shape == outside.predict(X).shape == y.shape


def test_grid_search_tunes_estimator_and_objective_together(data):
    X, y = data
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.8)
    )
    grid = GridSearchCV(
        model,
        {"estimator__C": [0.01, 1.0], "objective__min_precision": [0.7, 0.9]},
        scoring="recall",
        cv=3,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    best = grid.best_estimator_
    assert best.estimator.C == grid.best_params_["estimator__C"]
    assert best.objective.min_precision == grid.best_params_["objective__min_precision"]
    # Each candidate was fitted with its own objective: the thresholds differ.
    low = clone(model).set_params(objective__min_precision=0.7).fit(X, y)
    high = clone(model).set_params(objective__min_precision=0.9).fit(X, y)
    assert high.threshold_ > low.threshold_


def test_clone_and_persistence_round_trip(data, tmp_path):
    X, y = data
    model = ThresholdTunedClassifier(
        LogisticRegression(C=0.3),
        objective=CostMatrix([[0, 1], [7, 0]]),
        cv=4,
        random_state=3,
    )
    copy = clone(model)
    assert copy.get_params()["objective__matrix"] == [[0, 1], [7, 0]]
    assert copy.objective is not model.objective
    assert copy.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    model.fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.threshold_ == model.threshold_
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_cv_forms_give_the_same_threshold(data):
    X, y = data
    splits = list(StratifiedKFold(4).split(X, y))
    thresholds = [
        ThresholdTunedClassifier(LogisticRegression(), cv=cv).fit(X, y).threshold_
        for cv in (4, StratifiedKFold(4), splits, iter(splits))
    ]
    assert len(set(thresholds)) == 1
    shuffled = ThresholdTunedClassifier(LogisticRegression(), cv=4, random_state=0)
    assert shuffled.fit(X, y).threshold_ != thresholds[0]
    holdout = ThresholdTunedClassifier(LogisticRegression(), cv=0.3, random_state=0)
    assert 0 < holdout.fit(X, y).threshold_ < 1


def test_prefit_and_frozen_estimators_are_not_refitted(data):
    X, y = data
    prefit = LogisticRegression(C=0.05).fit(X[:300], y[:300])
    coef = prefit.coef_.copy()
    for model in (
        ThresholdTunedClassifier(prefit, cv="prefit"),
        ThresholdTunedClassifier(FrozenEstimator(prefit)),
    ):
        model.fit(X[300:], y[300:])
        np.testing.assert_array_equal(prefit.coef_, coef)
        expected = prefit.predict_proba(X)[:, 1] >= model.threshold_
        np.testing.assert_array_equal(model.predict(X), expected.astype(int))


def test_refit_false(data):
    X, y = data
    with pytest.raises(ValueError, match="refit=False keeps the model of the single"):
        ThresholdTunedClassifier(LogisticRegression(), refit=False).fit(X, y)
    model = ThresholdTunedClassifier(
        LogisticRegression(), refit=False, cv=0.25, random_state=0
    ).fit(X, y)
    full = LogisticRegression().fit(X, y)
    assert not np.allclose(model.estimator_.coef_, full.coef_)


def test_parallel_folds_are_bit_identical(data):
    X, y = data
    serial = ThresholdTunedClassifier(LogisticRegression(), store_cv_results=True)
    parallel = clone(serial).set_params(n_jobs=2)
    serial.fit(X, y)
    parallel.fit(X, y)
    assert serial.threshold_ == parallel.threshold_
    np.testing.assert_array_equal(
        serial.cv_results_["objective"], parallel.cv_results_["objective"]
    )


def test_metadata_routing_groups_and_weights(data):
    X, y = data
    groups = np.arange(y.size) % 7
    w = np.random.default_rng(0).uniform(0.5, 2, y.size)
    with config_context(enable_metadata_routing=True):
        estimator = LogisticRegression().set_fit_request(sample_weight=True)
        model = ThresholdTunedClassifier(estimator, cv=GroupKFold(3))
        model.fit(X, y, sample_weight=w, groups=groups)
        expected = LogisticRegression().fit(X, y, sample_weight=w)
        np.testing.assert_allclose(model.estimator_.coef_, expected.coef_)
        oof = cross_val_predict(
            LogisticRegression().set_fit_request(sample_weight=True),
            X,
            y,
            cv=GroupKFold(3),
            method="predict_proba",
            params={"groups": groups, "sample_weight": w},
        )[:, 1]
    assert model.best_score_ == pytest.approx(
        oof_best(y, oof, lambda p: f1_score(y, p, sample_weight=w))
    )


def test_fit_params_without_routing_name_the_setting(data):
    X, y = data
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        ThresholdTunedClassifier(LogisticRegression()).fit(X, y, groups=np.zeros(600))


def test_weights_without_estimator_support_warn(data):
    X, y = data

    class NoWeights(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.model_ = LogisticRegression().fit(X, y)
            self.classes_ = self.model_.classes_
            return self

        def predict_proba(self, X):
            return self.model_.predict_proba(X)

    with pytest.warns(UserWarning, match="used in the threshold search only"):
        ThresholdTunedClassifier(NoWeights()).fit(X, y, sample_weight=np.ones(600))


def test_methods_mirror_the_inner_estimator(data):
    X, y = data
    svc = ThresholdTunedClassifier(LinearSVC())
    assert not hasattr(svc, "predict_proba")
    assert hasattr(svc, "decision_function")
    svc.fit(X, y)
    np.testing.assert_array_equal(
        svc.predict(X), (svc.decision_function(X) >= svc.threshold_).astype(int)
    )
    tree = ThresholdTunedClassifier(DecisionTreeClassifier())
    assert hasattr(tree, "predict_proba") and not hasattr(tree, "decision_function")
    lr = ThresholdTunedClassifier(LogisticRegression()).fit(X, y)
    np.testing.assert_allclose(lr.predict_log_proba(X), np.log(lr.predict_proba(X)))


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
    expected = oof_best(y, oof, lambda p: f1_score(y, p, average="macro"))
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


class _PredictOnly(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


class _NaNScores(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        proba = np.full((len(X), 2), 0.5)
        proba[0] = np.nan
        return proba


class _ConstantOnOneFold(ClassifierMixin, BaseEstimator):
    """Logistic regression, but constant scores when fit on fewer than 500 rows."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.constant_ = len(y) < 500
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        if self.constant_:
            return np.full((len(X), 2), 0.5)
        return self.model_.predict_proba(X)


def _uneven_splits(n):
    index = np.arange(n)
    return [
        (index[100:], index[:100]),
        (index[np.r_[0:100, 200:n][:450]], index[100:200]),
    ]


BAD_INPUT = [
    ("one class", dict(), lambda X, y: (X, np.zeros_like(y)), ValueError, "1 class"),
    (
        "multiclass",
        dict(),
        lambda X, y: (X, np.arange(y.size) % 3),
        ValueError,
        "Only binary classification is supported for now",
    ),
    (
        "continuous y",
        dict(),
        lambda X, y: (X, y + 0.5 * np.arange(y.size)),
        ValueError,
        "Unknown label type",
    ),
    (
        "no scores",
        dict(estimator=_PredictOnly()),
        None,
        ValueError,
        "must be an object implementing 'fit' and 'predict_proba'",
    ),
    (
        "NaN scores",
        dict(estimator=_NaNScores()),
        None,
        ValueError,
        "non-finite scores: 5 NaN",
    ),
    (
        "constant scores",
        dict(estimator=DummyClassifier()),
        None,
        ValueError,
        "gives every sample the same score within each validation fold",
    ),
    (
        "infeasible precision",
        dict(objective=PrecisionTarget(0.9), estimator="inverted"),
        None,
        ValueError,
        r"best precision reachable is 0\.\d{4} \(recall",
    ),
    (
        "precision above 1",
        dict(objective=PrecisionTarget(1.2)),
        None,
        ValueError,
        r"'min_precision' parameter of PrecisionTarget must be a float in the range "
        r"\(0\.0, 1\.0\]\. Got 1\.2 instead",
    ),
    (
        "recall of 0",
        dict(objective=RecallTarget(0)),
        None,
        ValueError,
        r"'min_recall' .* Got 0 instead",
    ),
    (
        "cost matrix shape",
        dict(objective=CostMatrix(np.eye(3))),
        None,
        ValueError,
        r"2x2 matrix .* got shape \(3, 3\)",
    ),
    (
        "cost matrix without preference",
        dict(objective=CostMatrix([[1, 1], [1, 1]])),
        None,
        ValueError,
        "no preference",
    ),
    (
        "unknown scorer",
        dict(objective="f2"),
        None,
        ValueError,
        "'objective' parameter of ThresholdTunedClassifier must be",
    ),
    (
        "probability scorer",
        dict(objective="roc_auc"),
        None,
        ValueError,
        "no decision threshold changes",
    ),
    (
        "pos_label not a class",
        dict(pos_label=7),
        None,
        ValueError,
        r"pos_label=7 is not a class of y; the classes are \[0, 1\]",
    ),
    (
        "prefit unfitted",
        dict(cv="prefit"),
        None,
        Exception,
        "cv='prefit' needs an already fitted estimator",
    ),
]


@pytest.mark.parametrize(
    ("params", "transform", "error", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_gets_a_clear_message(data, params, transform, error, message):
    X, y = data
    if transform is not None:
        X, y = transform(X, y)
    params = {"estimator": LogisticRegression(), **params}
    if params["estimator"] == "inverted":  # its best precision is far below 0.9
        params["estimator"] = FrozenEstimator(LogisticRegression().fit(X, 1 - y))
    with pytest.raises(error, match=message):
        ThresholdTunedClassifier(**params).fit(X[:200], y[:200])


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (
            -np.ones(200),
            r"sample_weight must be finite and non-negative; got min=-1\.0",
        ),
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(200,\)"),
        (np.r_[np.zeros(100), np.ones(100)], "Each class needs a positive total"),
    ],
    ids=["negative", "wrong size", "a class without weight"],
)
def test_bad_sample_weight(data, weights, message):
    X, y = data
    X, y = X[:200], np.r_[np.zeros(100, int), np.ones(100, int)]
    with pytest.raises(ValueError, match=message):
        ThresholdTunedClassifier(LogisticRegression()).fit(X, y, sample_weight=weights)


def test_a_fold_with_constant_scores_warns(data):
    X, y = data
    model = ThresholdTunedClassifier(_ConstantOnOneFold(), cv=_uneven_splits(600))
    with pytest.warns(UserWarning, match="Fold 1 scores its 100 validation samples"):
        model.fit(X, y)
