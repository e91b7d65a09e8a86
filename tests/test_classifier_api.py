"""ThresholdTunedClassifier in scikit-learn's machinery: pipelines, search, cv forms."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from conftest import oof_best_value
from scipy import sparse
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
    cross_val_predict,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    CostMatrix,
    PrecisionTarget,
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


def test_pipeline_inside_is_tuned_on_its_own_folds(data):
    X, y = data
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    inside = ThresholdTunedClassifier(pipeline).fit(X, y)
    oof = cross_val_predict(
        pipeline, X, y, cv=StratifiedKFold(5), method="predict_proba"
    )
    expected = oof_best_value(y, oof[:, 1], lambda p: f1_score(y, p))
    assert inside.best_score_ == pytest.approx(expected)
    outside = make_pipeline(
        StandardScaler(), ThresholdTunedClassifier(LogisticRegression())
    )
    outside.fit(X, y)
    scores = outside[-1].estimator_.predict_proba(outside[0].transform(X))[:, 1]
    np.testing.assert_array_equal(
        outside.predict(X), (scores >= outside[-1].threshold_).astype(int)
    )


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
    train, _ = next(
        StratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0).split(X, y)
    )
    on_train_split = LogisticRegression().fit(X[train], y[train])
    np.testing.assert_allclose(model.estimator_.coef_, on_train_split.coef_)


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
        oof_best_value(y, oof, lambda p: f1_score(y, p, sample_weight=w))
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


def test_sparse_input(data):
    X, y = data
    model = ThresholdTunedClassifier(LogisticRegression(), recalibrate=True)
    dense = clone(model).fit(X, y)
    sparse_model = model.fit(sparse.csr_matrix(X), y)
    assert sparse_model.threshold_ == pytest.approx(dense.threshold_)
    np.testing.assert_array_equal(
        sparse_model.predict(sparse.csr_matrix(X)), dense.predict(X)
    )


def test_a_failed_fit_changes_nothing(data):
    X, y = data
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.6)
    )
    fresh = clone(model).set_params(objective__min_precision=1.0)
    with pytest.raises(ValueError, match="No threshold reaches"):
        fresh.fit(X, np.r_[y[:300], 1 - y[300:]])
    with pytest.raises(NotFittedError):
        fresh.predict(X)
    model.fit(X, y)
    before = (model.threshold_, model.predict(X))
    model.set_params(objective__min_precision=1.0)
    with pytest.raises(ValueError, match="No threshold reaches"):
        model.fit(X, np.r_[y[:300], 1 - y[300:]])
    assert model.threshold_ == before[0]
    np.testing.assert_array_equal(model.predict(X), before[1])


def test_pipeline_weights_reach_the_final_step(data):
    X, y = data
    w = np.random.default_rng(0).uniform(0.1, 3, y.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ThresholdTunedClassifier(
            make_pipeline(StandardScaler(), LogisticRegression())
        ).fit(X, y, sample_weight=w)
    expected = LogisticRegression().fit(
        StandardScaler().fit_transform(X), y, sample_weight=w
    )
    np.testing.assert_allclose(model.estimator_[-1].coef_, expected.coef_)
