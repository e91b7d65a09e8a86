"""Configurations of the behaviour-preservation suite, and their recorded outputs.

:func:`configurations` yields a few hundred small, deterministic fits of
:class:`~threshold_estimators.ThresholdTunedClassifier`; :func:`outputs` fits one
and returns everything observable about it (predictions, fitted attributes,
``cv_results_``, warnings, or the error raised at fit). ``make_fixture.py``
records the outputs of a frozen version of the package and
``tests/test_regression.py`` checks that the current one reproduces them bit for
bit.

Design: every objective kind is crossed with every target kind, twice (``rep``
0 and 1); the other axes (estimator and response method, ``cv``, sample
weights, ``recalibrate``, ``store_cv_results``, sample size) rotate with
arithmetic strides over ``(objective, target, rep)`` so that each of their
values appears about equally often and in varied company. A handful of
configurations chosen to fail at fit are added by hand. Nothing here draws from
``numpy.random.Generator`` (whose streams may change between NumPy versions):
data come from ``make_classification`` and ``RandomState``, whose streams are
frozen.

A configuration is a plain dict of strings, numbers and booleans; its id
(:func:`config_id`) names every field, so that a change of the design shows as
missing or unexpected ids rather than as silently different outputs.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import fbeta_score, make_scorer
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    FBeta,
    PrecisionTarget,
    RecallTarget,
)

N_TEST = 60  # held-out rows whose predictions are recorded
N_PREFIT = 150  # other rows, on which prefit / frozen models are trained

# --------------------------------------------------------------------------
# Targets: (labels indexed by make_classification's 0..k-1 classes, pos_label
# for rep 0, pos_label for rep 1).
TARGETS = {
    "bin01": (np.array([0, 1]), None, 1),
    "binpm1": (np.array([-1, 1]), None, 1),
    "binstr": (np.array(["no", "yes"]), None, "yes"),  # None warns: name the class
    "binbool": (np.array([False, True]), None, True),
    "binpos0": (np.array([3, 7]), 3, 3),  # pos_label is classes_[0]
    "mc3int_all": (np.array([0, 1, 2]), None, None),
    "mc4str_all": (np.array(["ant", "bee", "cat", "dog"]), None, None),
    "mc3int_one": (np.array([0, 1, 2]), 2, 2),
    "mc4str_one": (np.array(["ant", "bee", "cat", "dog"]), "bee", "bee"),
}


def squared_recall_mean(y_true, y_pred, sample_weight=None):
    """Mean over the true classes of their squared (weighted) recall.

    A metric the package does not recognize as a function of confusion counts:
    it goes through ``ScorerObjective`` (at most 256 candidate thresholds).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    weight = (
        np.ones(y_true.shape[0])
        if sample_weight is None
        else np.asarray(sample_weight, dtype=float)
    )
    recalls = []
    for label in np.unique(y_true):
        rows = y_true == label
        total = weight[rows].sum()
        if total > 0:
            recalls.append(weight[rows & (y_pred == label)].sum() / total)
    return float(np.mean(np.square(recalls)))


def _cost_matrix(n_classes, negative):
    if n_classes == 2:
        return [[-1.0, 2.0], [6.0, -0.5]] if negative else [[0.0, 1.0], [4.0, 0.0]]
    if n_classes == 3:
        if negative:
            return [[-1.0, 2.0, 2.0], [4.0, -2.0, 1.0], [6.0, 3.0, -1.0]]
        return [[0.0, 1.0, 2.0], [3.0, 0.0, 1.0], [5.0, 2.0, 0.0]]
    if negative:
        return [
            [-1.0, 2.0, 2.0, 3.0],
            [4.0, -2.0, 1.0, 1.0],
            [6.0, 3.0, -1.0, 2.0],
            [2.0, 2.0, 5.0, -0.5],
        ]
    return [
        [0.0, 1.0, 2.0, 1.0],
        [3.0, 0.0, 1.0, 2.0],
        [5.0, 2.0, 0.0, 1.0],
        [1.0, 4.0, 2.0, 0.0],
    ]


def _objective(name, n_classes):
    """The ``objective`` parameter of the configuration named ``name``."""
    objectives = {
        "f1str": lambda: "f1",
        "F1": F1,
        "FBeta0.5": lambda: FBeta(0.5),
        "FBeta3": lambda: FBeta(3),
        "P0.8": lambda: PrecisionTarget(0.8),
        **{
            f"P0.7c0.9{selection}{suffix}": partial(
                PrecisionTarget,
                0.7,
                confidence=0.9,
                selection=selection,
                on_infeasible=on_infeasible,
            )
            for selection in ("pointwise", "fixed_sequence", "bonferroni")
            for suffix, on_infeasible in (("", "raise"), ("warn", "warn"))
        },
        "R0.8": lambda: RecallTarget(0.8),
        # Feasible only when the top-scored rows are all positive: warns otherwise.
        "P0.999warn": lambda: PrecisionTarget(0.999, on_infeasible="warn"),
        # Needs ~460 positives to clear the bound: infeasible here, warns.
        "R0.99c0.99warn": lambda: RecallTarget(
            0.99, confidence=0.99, on_infeasible="warn"
        ),
        "P0.999raise": lambda: PrecisionTarget(0.999, on_infeasible="raise"),
        "P0.999c0.9raise": lambda: PrecisionTarget(0.999, confidence=0.9),
        "cost": lambda: CostMatrix(_cost_matrix(n_classes, negative=False)),
        "costneg": lambda: CostMatrix(_cost_matrix(n_classes, negative=True)),
        "balanced_accuracy": lambda: "balanced_accuracy",
        "accuracy": lambda: "accuracy",
        "precision": lambda: "precision",
        "recall": lambda: "recall",
        "jaccard": lambda: "jaccard",
        "matthews_corrcoef": lambda: "matthews_corrcoef",
        "fbeta2scorer": lambda: make_scorer(fbeta_score, beta=2),
        "customscorer": lambda: make_scorer(squared_recall_mean),
        "cost2x2": lambda: CostMatrix(_cost_matrix(2, negative=False)),
    }
    return objectives[name]()


# Crossed with every target (the last few of _objective are for hand-made cases).
OBJECTIVES = (
    "f1str",
    "F1",
    "FBeta0.5",
    "FBeta3",
    "P0.8",
    "P0.7c0.9pointwise",
    "P0.7c0.9fixed_sequence",
    "P0.7c0.9bonferroni",
    "R0.8",
    "P0.999warn",
    "R0.99c0.99warn",
    "cost",
    "costneg",
    "balanced_accuracy",
    "accuracy",
    "precision",
    "recall",
    "jaccard",
    "matthews_corrcoef",
    "fbeta2scorer",
    "customscorer",
)

# (estimator, response_method): every combination the estimator supports.
MODELS = (
    ("logreg", "predict_proba"),
    ("logreg", "decision_function"),
    ("logreg", "auto"),
    ("pipeline", "predict_proba"),
    ("pipeline", "decision_function"),
    ("pipeline", "auto"),
    ("gnb", "predict_proba"),
    ("gnb", "auto"),
    ("linearsvc", "decision_function"),
    ("linearsvc", "auto"),
    ("tree", "predict_proba"),
    ("tree", "auto"),
)
CVS = ("int3", "float0.3", "skfold4", "pairs", "prefit", "frozen", "single_norefit")
WEIGHTS = ("none", "int", "real")
SIZES = (150, 220, 320)


def _estimator(name):
    if name == "logreg":
        return LogisticRegression()
    if name == "pipeline":
        return make_pipeline(StandardScaler(), LogisticRegression())
    if name == "gnb":
        return GaussianNB()
    if name == "linearsvc":
        return LinearSVC(random_state=0)  # its dual solver shuffles
    if name == "tree":
        # Few leaves: heavily tied scores. Seeded: equal splits are drawn.
        return DecisionTreeClassifier(max_depth=3, random_state=0)
    raise ValueError(name)


def config_id(config):
    """A stable, readable id naming every field of ``config``."""
    return "-".join(
        [
            config["target"],
            f"pos={config['pos_label']}",
            config["objective"],
            config["estimator"],
            config["response_method"],
            config["cv"],
            f"rs={config['random_state']}",
            f"w={config['weights']}",
            "recal" if config["recalibrate"] else "norecal",
            "store" if config["store"] else "nostore",
            f"n={config['n']}",
            f"seed={config['seed']}",
        ]
    )


def _grid():
    """Every objective x every target x rep 0/1, other axes rotating."""
    for a, objective in enumerate(OBJECTIVES):
        for t, (target, (_, pos0, pos1)) in enumerate(TARGETS.items()):
            for rep in (0, 1):
                estimator, response_method = MODELS[(a + 5 * t + 7 * rep) % 12]
                cv = CVS[(a + 3 * t + 4 * rep) % 7]
                config = {
                    "target": target,
                    "pos_label": pos1 if rep else pos0,
                    "objective": objective,
                    "estimator": estimator,
                    "response_method": response_method,
                    "cv": cv,
                    # int cv: unshuffled, or shuffled by random_state.
                    "random_state": (
                        None if cv == "int3" and (a + t + rep) % 2 == 0 else 7 + t
                    ),
                    "weights": WEIGHTS[(a + t + rep) % 3],
                    "recalibrate": (a + rep) % 2 == 1,
                    "store": (a // 2 + t + rep) % 2 == 0,
                    "n": SIZES[(a + t // 3 + rep) % 3],
                    "seed": 1000 + 40 * a + 2 * t + rep,
                }
                if objective == "customscorer" and rep == 0:
                    # More than 256 distinct out-of-fold scores: the scorer is
                    # evaluated on a subset of the candidates.
                    config["n"] = 320
                    if config["estimator"] == "tree":
                        config["estimator"] = "logreg"
                    if config["cv"] in ("float0.3", "single_norefit"):
                        config["cv"] = "int3"
                if objective.startswith("P0.7c0.9") and rep == 1:
                    # The fixed sequence and Bonferroni often find nothing on
                    # a few hundred rows: rep 1 records the fallback.
                    config["objective"] = f"{objective}warn"
                k_by_k = objective.startswith("cost") and target.endswith("_all")
                if k_by_k:
                    # The k x k cost rule needs predict_proba and no
                    # recalibration (both failures are configured below).
                    config["recalibrate"] = False
                    if config["estimator"] == "linearsvc":
                        config["estimator"] = "gnb"
                    if config["response_method"] == "decision_function":
                        config["response_method"] = "auto"
                yield config


def _failures():
    """Configurations that raise at fit, beyond those of the grid."""
    base = {
        "pos_label": None,
        "estimator": "logreg",
        "response_method": "auto",
        "cv": "int3",
        "random_state": None,
        "weights": "none",
        "recalibrate": False,
        "store": False,
        "n": 150,
    }
    cases = [
        # Infeasible precision targets, on_infeasible="raise".
        ("bin01", "P0.999raise", {"seed": 5004}),
        ("binstr", "P0.999raise", {"seed": 5008, "pos_label": "yes"}),
        ("bin01", "P0.999c0.9raise", {"seed": 5103, "weights": "real"}),
        ("binpos0", "P0.999c0.9raise", {"seed": 5104, "pos_label": 3}),
        ("mc3int_all", "P0.999c0.9raise", {"seed": 5105}),
        ("mc4str_one", "P0.999c0.9raise", {"seed": 5106, "pos_label": "bee"}),
        # The k x k cost rule: no recalibration, needs predict_proba.
        ("mc3int_all", "cost", {"seed": 5107, "recalibrate": True}),
        ("mc4str_all", "costneg", {"seed": 5108, "recalibrate": True}),
        ("mc3int_all", "cost", {"seed": 5109, "response_method": "decision_function"}),
        ("mc4str_all", "cost", {"seed": 5110, "estimator": "linearsvc"}),
        # A 2 x 2 matrix on a multiclass target.
        ("mc3int_all", "cost2x2", {"seed": 5111}),
        # refit=False needs a single split.
        ("bin01", "F1", {"seed": 5112, "cv": "int3_norefit"}),
    ]
    for target, objective, changes in cases:
        yield {"target": target, "objective": objective, **base, **changes}


def configurations():
    """Yield every configuration (a dict; see :func:`config_id`)."""
    yield from _grid()
    yield from _failures()


def _data(config):
    """Training, test and prefit rows, with the configuration's labels."""
    labels = TARGETS[config["target"]][0]
    n_classes = labels.size
    n = config["n"]
    X, y = make_classification(
        n_samples=n + N_TEST + N_PREFIT,
        n_features=6,
        n_informative=4,
        n_redundant=1,
        n_classes=n_classes,
        n_clusters_per_class=1 if n_classes > 2 else 2,
        weights=[0.65] if n_classes == 2 else None,
        flip_y=0.05,
        class_sep=1.2,
        random_state=config["seed"],
    )
    y = labels[y]
    train, test = slice(0, n), slice(n, n + N_TEST)
    prefit = slice(n + N_TEST, None)
    return (X[train], y[train]), (X[test], y[test]), (X[prefit], y[prefit])


def _sample_weight(kind, n, seed):
    rng = np.random.RandomState(seed)
    if kind == "none":
        return None
    if kind == "int":
        return rng.randint(1, 5, size=n)  # integer dtype
    weight = rng.uniform(0.2, 2.0, size=n)
    weight[rng.uniform(size=n) < 0.08] = 0.0
    return weight


def _cv_arguments(config, y, prefit_X, prefit_y):
    """(estimator, keyword arguments of the tuner) for the configuration's cv."""
    estimator = _estimator(config["estimator"])
    cv, seed = config["cv"], config["seed"]
    if cv == "int3":
        return estimator, {"cv": 3}
    if cv == "int3_norefit":
        return estimator, {"cv": 3, "refit": False}
    if cv == "float0.3":
        return estimator, {"cv": 0.3}
    if cv == "skfold4":
        return estimator, {"cv": StratifiedKFold(4, shuffle=True, random_state=seed)}
    if cv == "pairs":
        # Three test sets covering 90 % of the rows (the rest never scored),
        # one row in two test sets.
        rng = np.random.RandomState(seed)
        order = rng.permutation(y.shape[0])
        covered = order[: int(0.9 * y.shape[0])]
        tests = [np.sort(part) for part in np.array_split(covered, 3)]
        tests[2] = np.sort(np.append(tests[2], tests[0][0]))
        pairs = [(np.setdiff1d(np.arange(y.shape[0]), test), test) for test in tests]
        return estimator, {"cv": pairs}
    if cv == "prefit":
        return estimator.fit(prefit_X, prefit_y), {"cv": "prefit"}
    if cv == "frozen":
        return FrozenEstimator(estimator.fit(prefit_X, prefit_y)), {"cv": 3}
    if cv == "single_norefit":
        split = StratifiedShuffleSplit(n_splits=1, test_size=0.3, random_state=seed)
        return estimator, {"cv": split, "refit": False}
    raise ValueError(cv)


def build(config):
    """(unfitted tuner, fit arguments, test rows) of one configuration."""
    (X, y), test, (prefit_X, prefit_y) = _data(config)
    n_classes = TARGETS[config["target"]][0].size
    estimator, cv_kwargs = _cv_arguments(config, y, prefit_X, prefit_y)
    model = ThresholdTunedClassifier(
        estimator,
        objective=_objective(config["objective"], n_classes),
        recalibrate=config["recalibrate"],
        response_method=config["response_method"],
        pos_label=config["pos_label"],
        random_state=config["random_state"],
        store_cv_results=config["store"],
        **cv_kwargs,
    )
    weight = _sample_weight(config["weights"], y.shape[0], config["seed"] + 1)
    return model, (X, y, weight), test


def _warning_list(caught):
    return [(w.category.__name__, str(w.message)) for w in caught]


def _error(exc):
    return (type(exc).__name__, str(exc))


def _calibrator_state(calibrator):
    if calibrator is None:
        return None
    if isinstance(calibrator, list):
        return [_calibrator_state(one) for one in calibrator]
    return {
        key: value
        for key, value in sorted(vars(calibrator).items())
        if key.endswith("_") and not key.startswith("_")
    }


PREDICTION_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "predict_posterior_proba",
)
FITTED_ATTRIBUTES = (
    "threshold_",
    "best_score_",
    "threshold_std_",
    "pos_label_",
    "classes_",
    "cost_rule_",
    "cost_temperature_",
)


def outputs(config):
    """Fit one configuration; everything observable about the fitted model.

    Keys: ``fit_warnings`` (category name, message) always; then either
    ``error`` (class name, message) when fit raised, or the prediction methods
    the model has (each an array, or ``("error", class, message)``), the fitted
    attributes, ``calibrator_`` (the ``*_`` attributes of each calibrator),
    ``cv_results_`` when stored, ``score`` and ``prediction_warnings``.
    """
    # One BLAS / OpenMP thread: faster on these tiny problems, and reductions
    # whose rounding could depend on the number of threads are done one way.
    with threadpool_limits(limits=1):
        return _outputs(config)


def _outputs(config):
    model, (X, y, weight), (X_test, y_test) = build(config)
    result = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y, sample_weight=weight)
        except Exception as exc:
            result["error"] = _error(exc)
    result["fit_warnings"] = _warning_list(caught)
    if "error" in result:
        return result
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for method in PREDICTION_METHODS:
            if hasattr(model, method):
                try:
                    result[method] = getattr(model, method)(X_test)
                except Exception as exc:
                    result[method] = ("error", *_error(exc))
        for attribute in FITTED_ATTRIBUTES:
            if hasattr(model, attribute):
                result[attribute] = getattr(model, attribute)
        result["calibrator_"] = _calibrator_state(model.calibrator_)
        if hasattr(model, "cv_results_"):
            result["cv_results_"] = model.cv_results_
        try:
            result["score"] = model.score(X_test, y_test)
        except Exception as exc:
            result["score"] = ("error", *_error(exc))
    result["prediction_warnings"] = _warning_list(caught)
    return result
