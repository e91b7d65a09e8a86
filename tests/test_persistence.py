"""Saving and loading fitted models: joblib, and skops with the documented types."""

import re
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import fbeta_score, make_scorer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FBeta,
    FixedThreshold,
    PrecisionTarget,
    RecallTarget,
)

sio = pytest.importorskip("skops.io")

from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "persistence.md"


def documented_types():
    """The first cell of each row of the guide's table of types."""
    return set(re.findall(r"^\| `([\w.]+)` \|", GUIDE.read_text(), flags=re.M))


def binary():
    return make_classification(
        n_samples=300, n_features=5, weights=[0.7], random_state=0
    )


def multiclass():
    return make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )


def scaled_logistic():
    return make_pipeline(StandardScaler(), LogisticRegression())


# (data, estimator): a model of every kind a user can save.
MODELS = {
    "binary": (binary, lambda: ThresholdTunedClassifier(LogisticRegression())),
    "binary, recalibrated, F1": (
        binary,
        lambda: ThresholdTunedClassifier(
            scaled_logistic(), objective=F1(), recalibrate=True, store_cv_results=True
        ),
    ),
    "binary, FBeta": (
        binary,
        lambda: ThresholdTunedClassifier(LogisticRegression(), objective=FBeta(2)),
    ),
    "binary, precision target": (
        binary,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective=PrecisionTarget(0.8, on_infeasible="warn")
        ),
    ),
    "binary, recall target": (
        binary,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective=RecallTarget(0.8)
        ),
    ),
    "binary, hgb, cost": (
        binary,
        lambda: ThresholdTunedClassifier(
            HistGradientBoostingClassifier(max_iter=20, random_state=0),
            objective=CostMatrix([[0, 1], [5, 0]]),
            cv=3,
        ),
    ),
    "binary, scorer": (
        binary,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective=make_scorer(fbeta_score, beta=2)
        ),
    ),
    "binary, fixed threshold, recalibrated": (
        binary,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective=FixedThreshold(0.3), recalibrate=True
        ),
    ),
    "binary, count scorer name": (
        binary,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective="balanced_accuracy"
        ),
    ),
    "multiclass, one class, accuracy": (
        multiclass,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective="accuracy", pos_label=1
        ),
    ),
    "multiclass, one class, matthews_corrcoef": (
        multiclass,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective="matthews_corrcoef", pos_label=1
        ),
    ),
    "multiclass, every class, accuracy": (
        multiclass,
        lambda: ThresholdTunedClassifier(LogisticRegression(), objective="accuracy"),
    ),
    "multiclass, every class, recalibrated": (
        multiclass,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), recalibrate=True, store_cv_results=True
        ),
    ),
    "multiclass, one class": (
        multiclass,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), pos_label=2, recalibrate=True
        ),
    ),
    "binary, retargeted from unlabelled rows": (
        binary,
        lambda: ThresholdTunedClassifier(LogisticRegression(), recalibrate=True),
    ),
    "multiclass, cost matrix": (
        multiclass,
        lambda: ThresholdTunedClassifier(
            LogisticRegression(), objective=CostMatrix(1 - np.eye(3))
        ),
    ),
}


@pytest.fixture(scope="module")
def fitted():
    models = {}
    with threadpool_limits(1):  # HGB's threads crawl on a busy machine
        for name, (data, make) in MODELS.items():
            X, y = data()
            model = make().fit(X, y)
            if "retargeted" in name:
                model.retarget(X=X)  # keeps a PrevalenceEstimate
            models[name] = (model, X)
    return models


def assert_same_predictions(loaded, model, X):
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.threshold_, model.threshold_)


@pytest.mark.parametrize("name", MODELS)
def test_skops_round_trip_with_the_documented_types(fitted, tmp_path, name):
    model, X = fitted[name]
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    asked = set(sio.get_untrusted_types(file=path))
    assert "threshold_estimators._classifier.ThresholdTunedClassifier" in asked
    assert asked <= documented_types()
    # The documented list, as a whole, is what a user passes.
    with threadpool_limits(1):
        assert_same_predictions(
            sio.load(path, trusted=sorted(documented_types())), model, X
        )


def test_skops_refuses_types_not_trusted(fitted, tmp_path):
    model, _ = fitted["binary, recalibrated, F1"]
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    with pytest.raises(UntrustedTypesFoundException, match="PiecewiseLogistic"):
        sio.load(
            path, trusted=["threshold_estimators._classifier.ThresholdTunedClassifier"]
        )


def test_the_documented_types_are_exactly_those_asked_for(fitted):
    """The guide's table cannot go stale: no type missing, none superfluous."""
    asked = set()
    for model, _ in fitted.values():
        asked |= set(sio.get_untrusted_types(data=sio.dumps(model)))
    assert asked == documented_types()


@pytest.mark.parametrize("name", MODELS)
def test_joblib_round_trip(fitted, tmp_path, name):
    model, X = fitted[name]
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    with threadpool_limits(1):
        assert_same_predictions(joblib.load(path), model, X)
