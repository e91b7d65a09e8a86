"""KerasProbabilisticClassifier on real Keras (the JAX backend, see conftest.py)."""

import importlib.util
import os
import pickle
import re
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from conftest import oof_best_value
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.keras import KerasProbabilisticClassifier
from threshold_estimators.objectives import PrecisionTarget

# Compiling for the CPU at XLA's lowest optimization level is several times
# faster, and these tiny networks run as fast either way. The variable must be
# set before JAX starts its CPU backend, that is before Keras runs anything.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

keras = pytest.importorskip(
    "keras",
    reason='Keras is not installed: pip install "threshold-estimators[keras]" '
    "(the [test] extra includes it) to run the Keras tests",
)

pytestmark = pytest.mark.filterwarnings(
    # Keras 3 on NumPy 2, inside Keras: nothing this package can act on.
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

HINT = 'pip install "threshold-estimators[keras]"'
# Every fit compiles its training step for each batch shape it meets (about a
# second each). The data below have class counts that make every fold of cv=2
# or cv=3 a multiple of BATCH rows, so all fits share one shape, and predictions
# are padded to full batches by the estimator itself.
BATCH = 50
FAST = {"epochs": 5, "batch_size": BATCH, "random_state": 0}


def build_mlp(n_features_in, n_classes, units=16, loss=None, learning_rate=0.01):
    """One hidden layer; a sigmoid unit for 2 classes, else a softmax."""
    if n_classes == 2:
        last = keras.layers.Dense(1, activation="sigmoid")
    else:
        last = keras.layers.Dense(n_classes, activation="softmax")
    model = keras.Sequential(
        [
            keras.Input((n_features_in,)),
            keras.layers.Dense(units, activation="relu"),
            last,
        ]
    )
    if loss is None:
        loss = (
            "binary_crossentropy"
            if n_classes == 2
            else "sparse_categorical_crossentropy"
        )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    return model


def build_uncompiled(n_features_in):
    return keras.Sequential(
        [keras.Input((n_features_in,)), keras.layers.Dense(1, activation="sigmoid")]
    )


def build_linear(n_features_in):
    """Logits, not probabilities."""
    model = keras.Sequential(
        [
            keras.Input((n_features_in,)),
            keras.layers.Dense(1, kernel_initializer="ones"),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    return model


def build_three_units(n_features_in):
    model = keras.Sequential(
        [keras.Input((n_features_in,)), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.fixture(scope="module", autouse=True)
def jax_compilation_cache(tmp_path_factory):
    """Every fit builds a new network whose training step XLA compiles anew
    (about a second each); identical programs (same layers and batch shapes)
    are then read back from this cache, which keeps the module fast. Results
    are unchanged: the cache stores the compiled program, not numbers."""
    if keras.backend.backend() == "jax":
        import jax

        jax.config.update(
            "jax_compilation_cache_dir", str(tmp_path_factory.mktemp("jax_cache"))
        )
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


@pytest.fixture(scope="module")
def data():
    """600 samples, exactly 450 negatives and 150 positives."""
    X, y = make_classification(
        n_samples=600, n_features=8, weights=[0.75], flip_y=0, random_state=0
    )
    assert np.bincount(y).tolist() == [450, 150]
    return X, y


@pytest.fixture(scope="module")
def digits():
    """60 images of each digit, pixels scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    keep = np.sort(np.concatenate([np.flatnonzero(y == k)[:60] for k in range(10)]))
    return X[keep] / 16.0, y[keep]


@pytest.fixture(scope="module")
def binary_clf(data):
    X, y = data
    return KerasProbabilisticClassifier(build_mlp, **FAST).fit(X, y)


def oof_proba(estimator, X, y, cv=3):
    """Out-of-fold probabilities from the same unshuffled stratified folds."""
    return cross_val_predict(
        estimator, X, y, cv=StratifiedKFold(cv), method="predict_proba"
    )


# --- Lazy import -----------------------------------------------------------


def test_importing_the_package_does_not_import_keras():
    code = (
        "import sys, threshold_estimators, threshold_estimators.keras\n"
        "from threshold_estimators.keras import KerasProbabilisticClassifier\n"
        "KerasProbabilisticClassifier(print, model__units=3).get_params()\n"
        "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') "
        "if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_missing_keras_names_the_extra(monkeypatch, data):
    X, y = data
    monkeypatch.setitem(sys.modules, "keras", None)  # `import keras` now fails
    with pytest.raises(ImportError, match=re.escape(HINT)):
        KerasProbabilisticClassifier(build_mlp).fit(X, y)


def test_unpickling_without_keras_names_the_extra(monkeypatch, binary_clf):
    payload = pickle.dumps(binary_clf)
    monkeypatch.setitem(sys.modules, "keras", None)
    with pytest.raises(ImportError, match=re.escape(HINT)):
        pickle.loads(payload)


def _run(code, **env):
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**environment, **env},
    )


def test_missing_backend_says_how_to_choose_one():
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed: a missing backend cannot be shown with it")
    result = _run(
        "from threshold_estimators.keras import KerasProbabilisticClassifier\n"
        "KerasProbabilisticClassifier(print).fit([[0.0], [1.0]], [0, 1])\n",
        KERAS_BACKEND="torch",
    )
    assert result.returncode != 0
    assert "Keras could not import its backend module 'torch'" in result.stderr
    assert "KERAS_BACKEND=jax" in result.stderr


def test_jax_is_chosen_when_the_default_backend_is_missing(tmp_path):
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed: Keras' default backend is available")
    # No KERAS_BACKEND, and a Keras home without keras.json: Keras would pick
    # TensorFlow and fail to import.
    result = _run(
        "from threshold_estimators.keras._lazy import import_keras\n"
        "print(import_keras().backend.backend())\n",
        KERAS_HOME=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "jax"


# --- The estimator on its own ----------------------------------------------


def test_classifier_identity_and_probabilities(binary_clf, data):
    X, _ = data
    assert is_classifier(binary_clf)
    assert binary_clf.__sklearn_tags__().estimator_type == "classifier"
    proba = binary_clf.predict_proba(X)
    sigmoid = binary_clf.model_.predict(X.astype("float32"), verbose=0)[:, 0]
    # Another batch size rounds differently in the last float32 bit.
    np.testing.assert_allclose(proba[:, 1], sigmoid, rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        binary_clf.predict(X), binary_clf.classes_[(sigmoid > 0.5).astype(int)]
    )
    assert binary_clf.n_features_in_ == X.shape[1]
    assert len(binary_clf.history_["loss"]) == FAST["epochs"]


def test_seeded_refits_are_bit_identical_and_leave_global_rngs(binary_clf, data):
    X, y = data
    np.random.seed(123)  # noqa: NPY002 - Keras seeds the legacy global generator
    expected = np.random.rand(3)  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    refit = clone(binary_clf).fit(X, y)
    np.testing.assert_array_equal(np.random.rand(3), expected)  # noqa: NPY002
    np.testing.assert_array_equal(refit.predict_proba(X), binary_clf.predict_proba(X))
    for a, b in zip(
        refit.model_.get_weights(), binary_clf.model_.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    other_seed = clone(binary_clf).set_params(random_state=1).fit(X, y)
    assert not np.array_equal(other_seed.predict_proba(X), refit.predict_proba(X))


def test_string_labels_binary_in_tuner(data):
    X, y = data
    names = np.array(["ham", "spam"])[y]
    tuned = ThresholdTunedClassifier(
        KerasProbabilisticClassifier(build_mlp, **FAST), pos_label="spam", cv=2
    ).fit(X, names)
    np.testing.assert_array_equal(tuned.classes_, ["ham", "spam"])
    proba = tuned.estimator_.predict_proba(X)
    expected = np.where(proba[:, 1] >= tuned.threshold_, "spam", "ham")
    np.testing.assert_array_equal(tuned.predict(X), expected)


def test_string_labels_one_hot_loss(digits):
    X, y = digits
    names = np.array(list("abcdefghij"))[y]
    clf = KerasProbabilisticClassifier(
        build_mlp, model__loss="categorical_crossentropy", **FAST
    ).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, list("abcdefghij"))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert np.mean(clf.predict(X) == names) > 0.8  # it learned from the labels


def test_sample_weight_reaches_the_training_loss(data):
    X, y = data
    clf = KerasProbabilisticClassifier(build_mlp, **FAST)
    plain = clone(clf).fit(X, y).predict_proba(X)[:, 1]
    # Almost no weight on the positives: the network learns to call few positive.
    weighted = clone(clf).fit(X, y, sample_weight=np.where(y == 1, 1e-3, 1.0))
    assert weighted.predict_proba(X)[:, 1].mean() < plain.mean() - 0.1


def test_uncompiled_builder_gets_a_default_compile(data):
    X, y = data
    clf = KerasProbabilisticClassifier(build_uncompiled, epochs=1).fit(X, y)
    assert clf.model_.loss == "binary_crossentropy"


def test_callbacks_are_copied_per_fit(data):
    X, y = data
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0)
    clf = KerasProbabilisticClassifier(
        build_mlp,
        epochs=40,
        batch_size=BATCH,
        validation_split=0.25,
        callbacks=[stop],
        model__learning_rate=0.05,
        random_state=0,
    ).fit(X, y)
    assert "val_loss" in clf.history_
    assert len(clf.history_["loss"]) < 40  # stopped early
    assert clf.callbacks[0] is stop and stop.stopped_epoch == 0  # untouched


def test_clone_keeps_every_parameter():
    stop = keras.callbacks.EarlyStopping(patience=3)
    clf = KerasProbabilisticClassifier(
        build_mlp,
        epochs=3,
        batch_size=16,
        verbose=2,
        validation_split=0.2,
        callbacks=[stop],
        random_state=7,
        model__units=5,
        model__learning_rate=0.1,
    )
    params = clone(clf).get_params(deep=False)
    assert params.keys() == clf.get_params(deep=False).keys()
    assert params.pop("callbacks")[0].patience == 3
    expected = clf.get_params(deep=False)
    expected.pop("callbacks")
    assert params == expected
    assert params["model__units"] == 5
    tuned = ThresholdTunedClassifier(clf).set_params(estimator__model__units=9)
    assert clone(tuned).estimator.get_params()["model__units"] == 9
    assert "estimator__model__units" in tuned.get_params()


def test_joblib_and_pickle_round_trips_are_identical(binary_clf, data, tmp_path):
    X, _ = data
    joblib.dump(binary_clf, tmp_path / "clf.joblib")
    loaded = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), binary_clf.predict_proba(X))
    assert loaded.history_ == binary_clf.history_
    assert loaded.get_params(deep=False).keys() == binary_clf.get_params().keys()
    again = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(again.predict(X), binary_clf.predict(X))
    assert isinstance(loaded.model_, keras.Model)  # pickling left it in place


# --- Inside ThresholdTunedClassifier ---------------------------------------


@pytest.fixture(scope="module")
def binary_tuned(data):
    X, y = data
    return ThresholdTunedClassifier(
        KerasProbabilisticClassifier(build_mlp, **FAST),
        objective=PrecisionTarget(0.8),
        cv=3,
        recalibrate=True,
    ).fit(X, y)


def test_binary_precision_target_on_out_of_fold_scores(binary_tuned, data):
    X, y = data
    # The folds refit bit-identically, so the tuner's out-of-fold scores are
    # reproduced independently here.
    oof = oof_proba(binary_tuned.estimator, X, y)[:, 1]
    called = oof >= binary_tuned.threshold_
    assert precision_score(y, called) >= 0.8
    assert recall_score(y, called) == pytest.approx(binary_tuned.best_score_)
    best = oof_best_value(
        y,
        oof,
        value=lambda p: recall_score(y, p),
        feasible=lambda p: precision_score(y, p, zero_division=0) >= 0.8,
    )
    assert binary_tuned.best_score_ == pytest.approx(best)


def test_binary_recalibrated_predict_agrees_with_proba(binary_tuned, data):
    X, _ = data
    rows = np.vstack([X, np.random.default_rng(0).normal(size=(200, X.shape[1]))])
    proba = binary_tuned.predict_proba(rows)
    np.testing.assert_array_equal(
        binary_tuned.predict(rows),
        binary_tuned.classes_[(proba[:, 1] >= 0.5).astype(int)],
    )


def test_softmax_class_5_precision_target(digits):
    X, y = digits
    inner = KerasProbabilisticClassifier(build_mlp, **FAST)
    tuned = ThresholdTunedClassifier(
        inner, objective=PrecisionTarget(0.95), pos_label=5, cv=3
    ).fit(X, y)
    oof5 = oof_proba(inner, X, y)[:, 5]
    called = oof5 >= tuned.threshold_
    assert precision_score(y == 5, called) >= 0.95
    assert recall_score(y == 5, called) == pytest.approx(tuned.best_score_)
    # predict: 5 where its probability clears the cut, else the best other class.
    proba = tuned.estimator_.predict_proba(X)
    others = proba.copy()
    others[:, 5] = -1
    expected = np.where(proba[:, 5] >= tuned.threshold_, 5, others.argmax(axis=1))
    np.testing.assert_array_equal(tuned.predict(X), expected)


def test_softmax_every_class_recalibrated_predict_is_argmax(digits):
    X, y = digits
    tuned = ThresholdTunedClassifier(
        KerasProbabilisticClassifier(build_mlp, **FAST), cv=3, recalibrate=True
    ).fit(X, y)
    assert tuned.threshold_.shape == (10,)
    proba = tuned.predict_proba(X)
    np.testing.assert_array_equal(
        tuned.predict(X), tuned.classes_[proba.argmax(axis=1)]
    )


def test_pipeline_with_scaler_and_sample_weight(data):
    X, y = data
    X = X * 100.0 + 50.0  # the scaler has work to do
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    pipeline = make_pipeline(
        StandardScaler(), KerasProbabilisticClassifier(build_mlp, **FAST)
    )
    with warnings.catch_warnings():
        # The tuner warns when the estimator cannot take the weights.
        warnings.simplefilter("error", UserWarning)
        tuned = ThresholdTunedClassifier(pipeline, cv=2).fit(
            X, y, sample_weight=weights
        )
    scores = tuned.estimator_.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(
        tuned.predict(X), (scores >= tuned.threshold_).astype(int)
    )
    assert tuned.score(X, y) > 0.8


def test_grid_search_over_epochs_and_builder_argument(data):
    X, y = data
    search = GridSearchCV(
        KerasProbabilisticClassifier(build_mlp, batch_size=64, random_state=0),
        {"epochs": [1, 4], "model__units": [2, 16]},
        cv=2,
        scoring="neg_log_loss",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best.model_.layers[0].units == search.best_params_["model__units"]
    assert len(best.history_["loss"]) == search.best_params_["epochs"]
    # Training longer and wider should win on this easy problem.
    assert search.best_params_ == {"epochs": 4, "model__units": 16}


def test_calibrated_classifier_cv_and_soft_voting_accept_it(data):
    X, y = data
    clf = KerasProbabilisticClassifier(build_mlp, **FAST)
    calibrated = CalibratedClassifierCV(clf, cv=2).fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)

    voting = VotingClassifier(
        [("nn", clf), ("lr", LogisticRegression())], voting="soft"
    ).fit(X, y)
    members = voting.named_estimators_
    expected = (members["nn"].predict_proba(X) + members["lr"].predict_proba(X)) / 2
    np.testing.assert_allclose(voting.predict_proba(X), expected)


def test_trained_keras_model_is_used_as_is(data):
    X, y = data
    train, valid = slice(0, 300), slice(300, None)
    keras.utils.set_random_seed(0)
    network = build_mlp(X.shape[1], 2)
    network.fit(X[train], y[train], epochs=5, batch_size=64, verbose=0)
    weights = [w.copy() for w in network.get_weights()]

    clf = KerasProbabilisticClassifier(network).fit(X[valid], y[valid])
    assert clf.model_ is network and clf.history_ is None
    frozen = ThresholdTunedClassifier(
        FrozenEstimator(clf), objective=PrecisionTarget(0.8), cv=3
    ).fit(X[valid], y[valid])
    prefit = ThresholdTunedClassifier(
        clf, objective=PrecisionTarget(0.8), cv="prefit"
    ).fit(X[valid], y[valid])
    for before, after in zip(weights, network.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)  # never retrained
    scores = network.predict(X[valid], verbose=0)[:, 0]
    best = oof_best_value(
        y[valid],
        scores,
        value=lambda p: recall_score(y[valid], p),
        feasible=lambda p: precision_score(y[valid], p, zero_division=0) >= 0.8,
    )
    assert frozen.best_score_ == pytest.approx(best)
    assert prefit.threshold_ == pytest.approx(frozen.threshold_)
    loaded = pickle.loads(pickle.dumps(clf))  # the model parameter travels too
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.model_ is loaded.model


# --- Errors -----------------------------------------------------------------


def test_bad_models_and_parameters_are_named(data):
    X, y = data
    with pytest.raises(TypeError, match="unexpected keyword argument 'units'"):
        KerasProbabilisticClassifier(build_mlp, units=4)
    with pytest.raises(TypeError, match="takes no argument 'width'"):
        KerasProbabilisticClassifier(build_mlp, model__width=4).fit(X, y)
    with pytest.raises(ValueError, match="model__n_classes is not settable"):
        KerasProbabilisticClassifier(build_mlp, model__n_classes=2).fit(X, y)
    with pytest.raises(TypeError, match=r"must return a keras\.Model; it returned"):
        KerasProbabilisticClassifier(lambda: "a model").fit(X, y)
    with pytest.raises(ValueError, match="3 output units but y has 2 classes"):
        KerasProbabilisticClassifier(build_three_units).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        KerasProbabilisticClassifier(build_mlp).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="'epochs' parameter"):
        KerasProbabilisticClassifier(build_mlp, epochs=0).fit(X, y)
    network = build_mlp(X.shape[1], 2)
    with pytest.raises(ValueError, match="arguments for a builder"):
        KerasProbabilisticClassifier(network, model__units=3).fit(X, y)


def test_logits_are_refused_as_probabilities(data):
    X, y = data
    clf = KerasProbabilisticClassifier(build_linear, epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        clf.predict_proba(X)


# --- scikit-learn's estimator checks ----------------------------------------

# The checks about what this adapter does itself: parameters, tags, fitted state,
# labels and probabilities, row independence, persistence, sample weights. The
# full suite (parametrize_with_checks) takes three times as long, each check
# training networks on data of its own shapes, for which XLA compiles anew; the
# checks left out test input validation done by `validate_data` (dtypes, NaN,
# sparse, complex, empty, pandas and list inputs), and two fail by design:
# check_do_not_raise_errors_in_init_or_set_params (a keyword that is not
# model__<name> is refused at construction, as Python refuses any unknown
# keyword) and check_sample_weight_equivalence_on_dense_data (in minibatch
# training a weight of 2 is not a repeated row).
SKLEARN_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimators_overwrite_params",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_estimators_unfitted",
    "check_estimators_fit_returns_self",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit_idempotent",
    "check_classifiers_train",
    "check_classifiers_classes",
    "check_classifiers_one_label",
    "check_classifiers_regression_target",
    "check_supervised_y_2d",
    "check_fit2d_predict1d",
    "check_methods_subset_invariance",
    "check_methods_sample_order_invariance",
    "check_dict_unchanged",
    "check_estimators_pickle",
    "check_sample_weights_shape",
    "check_sample_weights_list",
]


def build_for_checks(n_features_in, n_classes):
    return build_mlp(n_features_in, n_classes, learning_rate=0.1)


@pytest.mark.parametrize("name", SKLEARN_CHECKS)
def test_sklearn_check(name):
    estimator = KerasProbabilisticClassifier(build_for_checks, **FAST)
    getattr(estimator_checks, name)(type(estimator).__name__, estimator)
