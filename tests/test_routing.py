"""Metadata routing of ThresholdTunedClassifier, adapted from scikit-learn's tests.

Adapted from scikit-learn 1.9 (``scoring=`` is ``objective=``; ``best_threshold_``
is ``threshold_``; there is no ``thresholds=`` grid, the search is exact):

- ``sklearn/tests/test_metaestimators_metadata_routing.py``, run on the
  ``TunedThresholdClassifierCV`` entry of ``METAESTIMATORS`` (estimator
  "estimator", scorer "objective", cv "cv", routing methods ["fit"],
  preserves_metadata="subset"): test_default_request,
  test_error_on_missing_requests_for_sub_estimator,
  test_setting_request_on_sub_estimator_removes_error,
  test_non_consuming_estimator_works,
  test_metadata_is_routed_correctly_to_scorer,
  test_metadata_is_routed_correctly_to_splitter,
  test_metadata_routed_to_group_splitter.
- ``sklearn/model_selection/tests/test_classification_threshold.py``, the tests
  run under ``config_context(enable_metadata_routing=True)``:
  test_fit_and_score_over_thresholds_sample_weight and
  test_fit_and_score_over_thresholds_fit_params (written for the private
  ``_fit_and_score_over_thresholds`` on one train/validation split: here the
  public estimator with ``cv=[(train, validation)]`` and ``refit=False``),
  test_tuned_threshold_classifier_refit, test_tuned_threshold_classifier_fit_params,
  test_tuned_threshold_classifier_cv_zeros_sample_weights_equivalence and
  test_fixed_threshold_classifier_metadata_routing (with ``FixedThreshold``).

Left out, and why:

- test_unsupported_estimators_get_metadata_routing and
  test_unsupported_estimators_fit_with_metadata: they check that estimators
  WITHOUT routing (AdaBoost) raise NotImplementedError; ThresholdTunedClassifier
  implements routing (test_default_request checks it returns a MetadataRouter).
- test_registry_copy: tests the ``_Registry`` helper, not a meta-estimator.
- test_metadata_routed_to_sub_estimator_in_pipeline: only for meta-estimators
  that are transformers (intermediate Pipeline steps); this is a classifier
  (scikit-learn's test returns early for it too).
- test_fit_and_score_over_thresholds_curve_scorers / _prefit and
  test_tuned_threshold_classifier_thresholds_array: they check the ascending grid
  of ``thresholds`` of the private ``_CurveScorer``; there is no grid here. (Like
  the other tests of test_classification_threshold.py, they also do not involve
  metadata routing.)
- Partly adapted: test_fit_and_score_over_thresholds_sample_weight compares the
  score arrays of a common grid; with no grid, the stored curves (``cv_results_``,
  one candidate per distinct out-of-fold score) are compared instead.

``global_random_seed`` (a scikit-learn conftest fixture) becomes a few fixed
seeds.
"""

import inspect
import re
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import oof_best_value
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, get_scorer, make_scorer, mean_squared_error
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_validate,
)
from sklearn.preprocessing import StandardScaler
from sklearn.tests import metadata_routing_common
from sklearn.tests.metadata_routing_common import (
    ConsumingClassifier,
    ConsumingScorer,
    ConsumingSplitter,
    NonConsumingClassifier,
    _Registry,
    assert_request_is_empty,
    check_recorded_metadata,
)
from sklearn.utils._mocking import CheckingClassifier
from sklearn.utils._testing import _convert_container
from sklearn.utils.metadata_routing import MetadataRouter

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import F1, CostMatrix, FixedThreshold


@pytest.fixture(autouse=True)
def frames_without_source(monkeypatch):
    """scikit-learn's recording helpers read the caller from
    ``inspect.stack()``, which also reads every frame's source lines: called
    once per candidate threshold by a scorer objective, it took most of this
    module's time. The function names it reads come without the source."""

    def stack(context=1):
        return inspect.stack(0)[1:]  # from the caller's frame, as before

    # The module uses nothing else of inspect; the module itself is untouched.
    monkeypatch.setattr(
        metadata_routing_common, "inspect", SimpleNamespace(stack=stack)
    )


# The data of test_metaestimators_metadata_routing.py.
rng = np.random.RandomState(42)
N, M = 100, 4
X = rng.rand(N, M)
y = rng.randint(0, 3, size=N)
y_binary = (y >= 1).astype(int)
metadata = rng.randint(0, 10, size=N)
sample_weight = rng.rand(N)
groups = rng.randint(0, 10, size=len(y))

# Data with a signal, for the tests that compare against a brute-force search.
X_cost, y_cost = make_classification(
    n_samples=150, n_features=6, weights=[0.7], flip_y=0.05, random_state=0
)
# Each row's amount is its index + 1: a scorer that receives amounts can tell
# exactly which rows it was given.
amount = 1.0 + np.arange(y_cost.size)
metadata_cost = np.arange(y_cost.size) + 1000
weights_cost = np.random.RandomState(1).uniform(0.1, 5.0, y_cost.size)
FALSE_ALARM_COST = 5.0
CV_COST = StratifiedKFold(3)


def _init_args(sub_estimator_consumes=True):
    """``get_init_args`` of scikit-learn's test for the TunedThresholdClassifierCV
    entry: a consuming (or non-consuming) classifier, a ConsumingScorer as the
    objective and a ConsumingSplitter as cv, each with its registry."""
    estimator_registry = _Registry()
    estimator = (
        ConsumingClassifier(estimator_registry)
        if sub_estimator_consumes
        else NonConsumingClassifier()
    )
    scorer_registry = _Registry()
    scorer = ConsumingScorer(registry=scorer_registry)
    cv_registry = _Registry()
    cv = ConsumingSplitter(registry=cv_registry)
    kwargs = {"estimator": estimator, "objective": scorer, "cv": cv}
    return (
        kwargs,
        (estimator, estimator_registry),
        (scorer, scorer_registry),
        (cv, cv_registry),
    )


def _callee(instance, child, caller):
    """The child's method that ``caller`` routes to (``_get_callee_from_caller``)."""
    for name, route in instance.get_metadata_routing():
        if name == child:
            return next(pair.callee for pair in route.mapping if pair.caller == caller)
    raise KeyError(child)  # pragma: no cover


def _metadata_value(key):
    return {"sample_weight": sample_weight, "metadata": metadata}[key]


# ---------------------------------------------------------------------------
# sklearn/tests/test_metaestimators_metadata_routing.py
# ---------------------------------------------------------------------------


def test_default_request():
    # Check that by default request is empty and the right type.
    with config_context(enable_metadata_routing=True):
        kwargs, *_ = _init_args()
        instance = ThresholdTunedClassifier(**kwargs)
        # The GroupCV splitters request groups by default: ignored.
        assert_request_is_empty(
            instance.get_metadata_routing(), exclude={"splitter": ["split"]}
        )
        assert isinstance(instance.get_metadata_routing(), MetadataRouter)


@pytest.mark.parametrize("key", ["sample_weight", "metadata"])
def test_error_on_missing_requests_for_sub_estimator(key):
    # An UnsetMetadataPassedError is raised when the sub-estimator's requests
    # are not set.
    with config_context(enable_metadata_routing=True):
        kwargs, (estimator, _), (scorer, _), _ = _init_args()
        scorer.set_score_request(**{key: True})
        instance = ThresholdTunedClassifier(**kwargs)
        msg = (
            f"[{key}] are passed but are not explicitly set as requested or not"
            f" requested for {estimator.__class__.__name__}.fit"
        )
        with pytest.raises(UnsetMetadataPassedError, match=re.escape(msg)):
            instance.fit(X, y_binary, **{key: _metadata_value(key)})


@pytest.mark.parametrize("key", ["sample_weight", "metadata"])
def test_setting_request_on_sub_estimator_removes_error(key):
    # When the metadata is explicitly requested on the sub-estimator, there
    # are no errors, and each fit of the sub-estimator receives (a subset of)
    # the metadata.
    with config_context(enable_metadata_routing=True):
        value = _metadata_value(key)
        kwargs, (estimator, registry), (scorer, _), (cv, _) = _init_args()
        scorer.set_score_request(**{key: True})
        cv.set_split_request(groups=True, metadata=True)
        estimator.set_fit_request(**{key: True})
        instance = ThresholdTunedClassifier(**kwargs)
        instance.fit(X, y_binary, **{key: value})

        # Sanity check that the registry is not empty, or else the test passes
        # trivially.
        assert registry
        for fitted in registry:
            check_recorded_metadata(
                fitted,
                method=_callee(instance, "estimator", "fit"),
                parent="fit",
                split_params=(key,),
                preserves_metadata="subset",
                **{key: value},
            )


def test_non_consuming_estimator_works():
    # With a non-consuming estimator, the meta-estimator works without setting
    # any requests (scikit-learn issue #28239).
    with config_context(enable_metadata_routing=True):
        kwargs, *_ = _init_args(sub_estimator_consumes=False)
        instance = ThresholdTunedClassifier(**kwargs)
        instance.fit(X, y_binary)
        assert hasattr(instance, "threshold_")


def test_metadata_is_routed_correctly_to_scorer():
    # Requested metadata reach the objective scorer (sliced to the rows it
    # scores).
    with config_context(enable_metadata_routing=True):
        kwargs, (estimator, _), (scorer, registry), (cv, _) = _init_args()
        scorer.set_score_request(sample_weight=True)
        cv.set_split_request(groups=True, metadata=True)
        estimator.set_fit_request(sample_weight=True)
        instance = ThresholdTunedClassifier(**kwargs)
        instance.fit(X, y_binary, sample_weight=sample_weight)

        assert registry
        for _scorer in registry:
            check_recorded_metadata(
                obj=_scorer,
                method="consuming_metric",
                parent="fit",
                split_params=("sample_weight",),
                sample_weight=sample_weight,
            )


def test_metadata_is_routed_correctly_to_splitter():
    # Requested metadata reach the cv splitter, unmodified.
    with config_context(enable_metadata_routing=True):
        kwargs, (estimator, _), (scorer, _), (cv, registry) = _init_args()
        estimator.set_fit_request(sample_weight=False, metadata=False)
        scorer.set_score_request(sample_weight=False, metadata=False)
        cv.set_split_request(groups=True, metadata=True)
        instance = ThresholdTunedClassifier(**kwargs)
        instance.fit(X, y_binary, groups=groups, metadata=metadata)

        assert registry
        for _splitter in registry:
            check_recorded_metadata(
                obj=_splitter,
                method="split",
                parent="fit",
                groups=groups,
                metadata=metadata,
            )


def test_metadata_routed_to_group_splitter():
    # groups reach a group splitter when the estimator is itself evaluated by
    # cross_validate with a group splitter (scikit-learn PR #29634: no
    # "The 'groups' parameter should not be None").
    with config_context(enable_metadata_routing=True):
        kwargs, *_ = _init_args()
        kwargs.pop("cv")
        instance = ThresholdTunedClassifier(cv=GroupKFold(n_splits=2), **kwargs)
        cross_validate(
            instance,
            X,
            y_binary,
            params={"groups": groups},
            cv=GroupKFold(n_splits=2),
            scoring=make_scorer(mean_squared_error, response_method="predict"),
        )


# ---------------------------------------------------------------------------
# sklearn/model_selection/tests/test_classification_threshold.py
# ---------------------------------------------------------------------------


def test_fit_and_score_over_thresholds_sample_weight():
    """Sample weights are dispatched to fit and to the objective: weights of 2
    equal repeating the rows (one split validating on its training rows)."""
    # A problem with overlap (iris 0 vs 1 is separable: every curve would be
    # trivially the same).
    X_, y_ = make_classification(n_samples=100, flip_y=0.1, random_state=0)
    X_repeated = np.vstack([X_, X_[y_ == 0]])
    y_repeated = np.hstack([y_, y_[y_ == 0]])
    weights = np.ones_like(y_)
    weights[y_ == 0] = 2
    n, n_repeated = y_.size, y_repeated.size

    with config_context(enable_metadata_routing=True):
        scorer = get_scorer("balanced_accuracy")
        repeated = ThresholdTunedClassifier(
            LogisticRegression(),
            objective=scorer,
            cv=[(np.arange(n_repeated), np.arange(n_repeated))],
            refit=False,
            store_cv_results=True,
        ).fit(X_repeated, y_repeated)
        weighted = ThresholdTunedClassifier(
            LogisticRegression().set_fit_request(sample_weight=True),
            objective=get_scorer("balanced_accuracy").set_score_request(
                sample_weight=True
            ),
            cv=[(np.arange(n), np.arange(n))],
            refit=False,
            store_cv_results=True,
        ).fit(X_, y_, sample_weight=weights)

    np.testing.assert_allclose(
        repeated.estimator_.coef_, weighted.estimator_.coef_, rtol=1e-5
    )
    for key in ("thresholds", "objective"):
        np.testing.assert_allclose(
            repeated.cv_results_[key], weighted.cv_results_[key], rtol=1e-5
        )
    assert repeated.best_score_ == pytest.approx(weighted.best_score_)
    assert repeated.threshold_ == pytest.approx(weighted.threshold_, rel=1e-5)


@pytest.mark.parametrize("fit_params_type", ["list", "array"])
def test_fit_and_score_over_thresholds_fit_params(fit_params_type):
    """fit_params reach the classifier's fit, sliced to the training split."""
    X_, y_ = make_classification(n_samples=100, random_state=0)
    fit_params = {
        "a": _convert_container(y_, fit_params_type),
        "b": _convert_container(y_, fit_params_type),
    }
    with config_context(enable_metadata_routing=True):
        # CheckingClassifier checks that a and b have as many rows as X.
        classifier = CheckingClassifier(expected_fit_params=["a", "b"], random_state=0)
        classifier.set_fit_request(a=True, b=True)
        model = ThresholdTunedClassifier(
            classifier, cv=[(np.arange(50), np.arange(50, 100))], refit=False
        )
        model.fit(X_, y_, **fit_params)
    assert model.estimator_ is not classifier


@pytest.mark.parametrize("seed", [0, 42])
@pytest.mark.parametrize("with_sample_weight", [True, False])
def test_tuned_threshold_classifier_refit(with_sample_weight, seed):
    """Check the behaviour of the `refit` parameter."""
    rng = np.random.RandomState(seed)
    X_, y_ = make_classification(n_samples=100, random_state=0)
    if with_sample_weight:
        weights = rng.randn(X_.shape[0])
        weights = np.abs(weights, out=weights)
    else:
        weights = None

    with config_context(enable_metadata_routing=True):
        # `estimator_` is fitted on the full dataset when `refit=True`.
        estimator = LogisticRegression().set_fit_request(sample_weight=True)
        model = ThresholdTunedClassifier(
            estimator,
            refit=True,
            objective=get_scorer("balanced_accuracy").set_score_request(
                sample_weight=True
            ),
        ).fit(X_, y_, sample_weight=weights)

        assert model.estimator_ is not estimator
        estimator.fit(X_, y_, sample_weight=weights)
        np.testing.assert_allclose(model.estimator_.coef_, estimator.coef_)
        np.testing.assert_allclose(model.estimator_.intercept_, estimator.intercept_)

        # `estimator_` is not altered when `refit=False` and `cv="prefit"`.
        estimator = LogisticRegression().set_fit_request(sample_weight=True)
        estimator.fit(X_, y_, sample_weight=weights)
        coef = estimator.coef_.copy()
        model = ThresholdTunedClassifier(
            estimator,
            cv="prefit",
            refit=False,
            objective=get_scorer("balanced_accuracy").set_score_request(
                sample_weight=True
            ),
        ).fit(X_, y_, sample_weight=weights)

        assert model.estimator_ is estimator
        np.testing.assert_allclose(model.estimator_.coef_, coef)

        # `estimator_` is trained on the training split of a given single split.
        estimator = LogisticRegression().set_fit_request(sample_weight=True)
        cv = [(np.arange(50), np.arange(50, 100))]
        model = ThresholdTunedClassifier(
            estimator,
            cv=cv,
            refit=False,
            objective=get_scorer("balanced_accuracy").set_score_request(
                sample_weight=True
            ),
        ).fit(X_, y_, sample_weight=weights)

        assert model.estimator_ is not estimator
        sw_train = None if weights is None else weights[cv[0][0]]
        estimator.fit(X_[cv[0][0]], y_[cv[0][0]], sample_weight=sw_train)
        np.testing.assert_allclose(model.estimator_.coef_, estimator.coef_)


@pytest.mark.parametrize("fit_params_type", ["list", "array"])
def test_tuned_threshold_classifier_fit_params(fit_params_type):
    """Check that we pass `fit_params` to the classifier when calling `fit`."""
    X_, y_ = make_classification(n_samples=100, random_state=0)
    fit_params = {
        "a": _convert_container(y_, fit_params_type),
        "b": _convert_container(y_, fit_params_type),
    }
    with config_context(enable_metadata_routing=True):
        classifier = CheckingClassifier(expected_fit_params=["a", "b"], random_state=0)
        classifier.set_fit_request(a=True, b=True)
        model = ThresholdTunedClassifier(classifier)
        model.fit(X_, y_, **fit_params)


def test_tuned_threshold_classifier_cv_zeros_sample_weights_equivalence():
    """Removing samples from `X` is equivalent to giving them a zero weight."""
    X_, y_ = load_iris(return_X_y=True)
    # Scale the data to avoid any convergence issue
    X_ = StandardScaler().fit_transform(X_)
    # Only use 2 classes and select samples such that 2-fold cross-validation
    # split will lead to an equivalence with a `sample_weight` of 0
    X_ = np.vstack((X_[:40], X_[50:90]))
    y_ = np.hstack((y_[:40], y_[50:90]))
    weights = np.zeros_like(y_)
    weights[::2] = 1

    with config_context(enable_metadata_routing=True):
        estimator = (
            LogisticRegression()
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=True)
        )
        # scikit-learn's default scoring is balanced accuracy; here it is F1.
        model_without_weights = ThresholdTunedClassifier(
            estimator, cv=2, objective="balanced_accuracy"
        )
        model_with_weights = ThresholdTunedClassifier(
            estimator,
            cv=2,
            objective=get_scorer("balanced_accuracy").set_score_request(
                sample_weight=True
            ),
        )
        model_with_weights.fit(X_, y_, sample_weight=weights)
        model_without_weights.fit(X_[::2], y_[::2])

    np.testing.assert_allclose(
        model_with_weights.estimator_.coef_, model_without_weights.estimator_.coef_
    )
    np.testing.assert_allclose(
        model_with_weights.predict_proba(X_), model_without_weights.predict_proba(X_)
    )
    # Zero-weight rows neither count nor create candidates (exact search).
    assert model_with_weights.best_score_ == pytest.approx(
        model_without_weights.best_score_
    )
    assert model_with_weights.threshold_ == pytest.approx(
        model_without_weights.threshold_
    )


def test_fixed_threshold_classifier_metadata_routing():
    """Check that everything works with metadata routing (FixedThreshold)."""
    X_, y_ = make_classification(random_state=0)
    weights = np.ones_like(y_)
    weights[::2] = 2
    with config_context(enable_metadata_routing=True):
        classifier = LogisticRegression().set_fit_request(sample_weight=True)
        classifier.fit(X_, y_, sample_weight=weights)
        fixed = ThresholdTunedClassifier(
            clone(classifier), objective=FixedThreshold(0.5)
        )
        fixed.fit(X_, y_, sample_weight=weights)
    np.testing.assert_allclose(fixed.estimator_.coef_, classifier.coef_)
    assert fixed.threshold_ == 0.5


# ---------------------------------------------------------------------------
# Objectives requesting metadata: per-row amounts, declined weights, errors.
# ---------------------------------------------------------------------------


def _cost(y_true, y_pred, amount):
    """Total cost: a missed positive costs its amount, a false alarm 5."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    missed = (y_true == 1) & (y_pred == 0)
    false_alarm = (y_true == 0) & (y_pred == 1)
    return amount[missed].sum() + FALSE_ALARM_COST * false_alarm.sum()


def _recording_cost(calls):
    """``_cost`` that records the labels and amounts of each call."""

    def cost_fn(y_true, y_pred, amount):
        calls.append((np.asarray(y_true).copy(), np.asarray(amount).copy()))
        return _cost(y_true, y_pred, amount)

    return cost_fn


def _oof_scores(X_, y_, cv, weights=None):
    """Out-of-fold LogisticRegression probabilities, fitted with ``weights``."""
    oof = np.empty(y_.size)
    for train, test in cv.split(X_, y_):
        fit_weights = None if weights is None else weights[train]
        model = LogisticRegression().fit(
            X_[train], y_[train], sample_weight=fit_weights
        )
        oof[test] = model.predict_proba(X_[test])[:, 1]
    return oof


@pytest.mark.parametrize("with_sample_weight", [False, True])
def test_cost_scorer_gets_amount_sliced_to_the_rows_it_scores(with_sample_weight):
    calls = []
    weights = weights_cost if with_sample_weight else None
    with config_context(enable_metadata_routing=True):
        scorer = make_scorer(
            _recording_cost(calls), greater_is_better=False
        ).set_score_request(amount=True)
        estimator = LogisticRegression().set_fit_request(sample_weight=True)
        params = {"amount": amount}
        if with_sample_weight:
            # Consumed by the estimator; the scorer does not request them (its
            # metric would raise a TypeError on an unexpected sample_weight).
            params["sample_weight"] = weights
        model = ThresholdTunedClassifier(estimator, objective=scorer, cv=CV_COST)
        model.fit(X_cost, y_cost, **params)

    assert calls
    folds = [np.sort(test) for _, test in CV_COST.split(X_cost, y_cost)]
    allowed = [np.arange(y_cost.size), *folds]
    seen = set()
    for y_true, received in calls:
        assert received.shape == y_true.shape
        rows = received.astype(int) - 1  # the amount names its row
        np.testing.assert_array_equal(received, amount[rows])
        # The labels the scorer got are those of the rows whose amounts it got.
        np.testing.assert_array_equal(y_true, y_cost[rows])
        assert np.unique(rows).size == rows.size
        matches = [
            k for k, ok in enumerate(allowed) if np.array_equal(np.sort(rows), ok)
        ]
        assert matches, "the scorer got rows that are neither all OOF rows nor a fold"
        seen.add(matches[0])
    # Called on the pooled out-of-fold rows and on each fold's rows.
    assert seen == set(range(len(allowed)))

    # The search minimizes the (unweighted: the scorer takes no weights) cost
    # over every cut of the out-of-fold scores.
    oof = _oof_scores(X_cost, y_cost, CV_COST, weights)
    expected = oof_best_value(y_cost, oof, lambda p: -_cost(y_cost, p, amount))
    assert model.best_score_ == pytest.approx(expected)

    if not with_sample_weight:
        # The same costs as a CostMatrix, whose score is the mean cost per row.
        with config_context(enable_metadata_routing=True):
            matrix = ThresholdTunedClassifier(
                LogisticRegression(),
                objective=CostMatrix([[0, FALSE_ALARM_COST], ["amount", 0]]),
                cv=CV_COST,
            ).fit(X_cost, y_cost, amount=amount)
        assert matrix.best_score_ * y_cost.size == pytest.approx(model.best_score_)


def _recording_f1(received):
    def metric(y_true, y_pred, sample_weight=None):
        received.append(None if sample_weight is None else np.asarray(sample_weight))
        if sample_weight is not None:
            assert len(sample_weight) == len(y_true)
        return f1_score(y_true, y_pred, sample_weight=sample_weight)

    return metric


# (objective factory, estimator requests sample_weight, search is weighted)
WEIGHT_CASES = {
    "name-f1": (lambda received: "f1", False, True),
    "F1-object": (lambda received: F1(), False, True),
    "f1-scorer-requests": (
        lambda received: make_scorer(f1_score).set_score_request(sample_weight=True),
        False,
        True,
    ),
    "f1-scorer-declines": (
        lambda received: make_scorer(f1_score).set_score_request(sample_weight=False),
        True,
        False,
    ),
    "recording-scorer-requests": (
        lambda received: make_scorer(_recording_f1(received)).set_score_request(
            sample_weight=True
        ),
        False,
        True,
    ),
    "recording-scorer-declines": (
        lambda received: make_scorer(_recording_f1(received)).set_score_request(
            sample_weight=False
        ),
        True,
        False,
    ),
}


@pytest.mark.parametrize("case", list(WEIGHT_CASES))
def test_search_is_weighted_by_the_weights_the_objective_takes(case):
    """A name or an objective object takes fit's weights; a scorer takes those
    it requests, and the search is weighted by exactly those."""
    make_objective, estimator_weighted, search_weighted = WEIGHT_CASES[case]
    received = []
    with config_context(enable_metadata_routing=True):
        estimator = LogisticRegression().set_fit_request(
            sample_weight=estimator_weighted
        )
        model = ThresholdTunedClassifier(
            estimator, objective=make_objective(received), cv=CV_COST
        ).fit(X_cost, y_cost, sample_weight=weights_cost)

    oof = _oof_scores(
        X_cost, y_cost, CV_COST, weights_cost if estimator_weighted else None
    )
    weighted = oof_best_value(
        y_cost, oof, lambda p: f1_score(y_cost, p, sample_weight=weights_cost)
    )
    unweighted = oof_best_value(y_cost, oof, lambda p: f1_score(y_cost, p))
    assert weighted != pytest.approx(unweighted)  # the test can tell them apart
    expected = weighted if search_weighted else unweighted
    assert model.best_score_ == pytest.approx(expected)

    if case.startswith("recording"):
        assert received
        if search_weighted:
            assert all(w is not None for w in received)
            assert all(np.isin(w, weights_cost).all() for w in received)
        else:
            assert all(w is None for w in received)


def _scorer_not_requesting_amount():
    return make_scorer(_cost, greater_is_better=False)


def _scorer_declining_amount():
    return make_scorer(_cost, greater_is_better=False).set_score_request(amount=False)


# (objective factory, fit params, expected error, message) -- the errors
# scikit-learn's TunedThresholdClassifierCV raises in the same situation.
UNREQUESTED_CASES = {
    "amount-not-requested": (
        _scorer_not_requesting_amount,
        {"amount": amount},
        UnsetMetadataPassedError,
        r"\[amount\] are passed but are not explicitly set as requested",
    ),
    "amount-declined": (
        _scorer_declining_amount,
        {"amount": amount},
        TypeError,
        r"unexpected argument\(s\) \{'amount'\}, which are not routed",
    ),
    "requested-by-nobody": (
        lambda: make_scorer(f1_score),
        {"foo": amount},
        TypeError,
        r"unexpected argument\(s\) \{'foo'\}, which are not routed",
    ),
    "weights-not-requested-by-estimator": (
        lambda: make_scorer(f1_score).set_score_request(sample_weight=True),
        {"sample_weight": weights_cost},
        UnsetMetadataPassedError,
        r"\[sample_weight\] are passed .* LogisticRegression\.fit",
    ),
    "weights-with-a-name-objective": (
        lambda: "f1",
        {"sample_weight": weights_cost},
        UnsetMetadataPassedError,
        r"\[sample_weight\] are passed .* LogisticRegression\.fit",
    ),
}


@pytest.mark.parametrize("case", list(UNREQUESTED_CASES))
def test_unrequested_metadata_raise_as_sklearn_routers_do(case):
    make_objective, params, error, message = UNREQUESTED_CASES[case]
    with config_context(enable_metadata_routing=True):
        # scikit-learn's own tuner raises the same error for the same call.
        reference = TunedThresholdClassifierCV(
            LogisticRegression(), scoring=make_objective()
        )
        with pytest.raises(error, match=message):
            reference.fit(X_cost, y_cost, **params)
        model = ThresholdTunedClassifier(
            LogisticRegression(), objective=make_objective()
        )
        with pytest.raises(error, match=message):
            model.fit(X_cost, y_cost, **params)


def test_unrequested_metadata_raise_with_a_cost_matrix():
    with config_context(enable_metadata_routing=True):
        model = ThresholdTunedClassifier(
            LogisticRegression(), objective=CostMatrix([[0, 1], ["amount", 0]])
        )
        with pytest.raises(TypeError, match=r"\{'foo'\}, which are not routed"):
            model.fit(X_cost, y_cost, amount=amount, foo=amount)


# (objective factory, the objective's expected ``score`` requests)
ROUTING_CASES = {
    "scorer-amount": (
        lambda: make_scorer(_cost, greater_is_better=False).set_score_request(
            amount=True
        ),
        {"amount": True},
    ),
    "scorer-declines-weights": (
        lambda: make_scorer(f1_score).set_score_request(sample_weight=False),
        {"sample_weight": False},
    ),
    "cost-matrix": (
        lambda: CostMatrix([[0, 1], ["amount", 0]]),
        {"amount": True},
    ),
    "name": (lambda: "f1", {"sample_weight": True}),
}


@pytest.mark.parametrize("case", list(ROUTING_CASES))
def test_get_metadata_routing_has_the_objective_entry(case):
    make_objective, requests = ROUTING_CASES[case]
    with config_context(enable_metadata_routing=True):
        model = ThresholdTunedClassifier(
            LogisticRegression(), objective=make_objective(), cv=GroupKFold(3)
        )
        router = model.get_metadata_routing()
        entries = dict(iter(router))
        mappings = {
            name: [(pair.caller, pair.callee) for pair in route.mapping]
            for name, route in entries.items()
            if name != "$self_request"
        }
        assert mappings == {
            "estimator": [("fit", "fit")],
            "splitter": [("fit", "split")],
            "objective": [("fit", "score")],
        }
        assert entries["objective"].router.score.requests == requests
        requested = {name for name, value in requests.items() if value is True}
        assert router.consumes("fit", ["amount", "sample_weight"]) >= requested
        assert "groups" in router.consumes("fit", ["groups"])


def _brute_force_cost(oof, weights=None):
    w = np.ones(y_cost.size) if weights is None else weights

    def value(y_pred):
        cost = np.where((y_cost == 1) & (y_pred == 0), amount, 0.0)
        cost += np.where((y_cost == 0) & (y_pred == 1), 1.0, 0.0)
        return -np.sum(w * cost) / np.sum(w)

    return oof_best_value(y_cost, oof, value)


@pytest.mark.parametrize("with_sample_weight", [False, True])
def test_cost_matrix_amount_never_reaches_the_estimator_with_routing(
    with_sample_weight,
):
    matrix = CostMatrix([[0, 1], ["amount", 0]])
    registry = _Registry()
    params = {"amount": amount, "metadata": metadata_cost}
    expected_records = {"metadata": metadata_cost}
    if with_sample_weight:
        params["sample_weight"] = weights_cost
        expected_records["sample_weight"] = weights_cost
    with config_context(enable_metadata_routing=True):
        # No set_score_request: the CostMatrix requests its names itself.
        estimator = ConsumingClassifier(registry).set_fit_request(
            metadata=True, sample_weight=with_sample_weight
        )
        ThresholdTunedClassifier(estimator, objective=matrix, cv=CV_COST).fit(
            X_cost, y_cost, **params
        )
    assert registry
    for fitted in registry:
        # Exactly the requested metadata (ConsumingClassifier.fit would raise
        # a TypeError on an ``amount`` keyword).
        check_recorded_metadata(
            fitted,
            method="fit",
            parent="fit",
            split_params=tuple(expected_records),
            preserves_metadata="subset",
            **expected_records,
        )


@pytest.mark.parametrize("routing", [True, False])
@pytest.mark.parametrize("with_sample_weight", [False, True])
def test_cost_matrix_with_and_without_routing(routing, with_sample_weight):
    """The same decision with routing on and off: the exact cost optimum over
    the out-of-fold scores, weighted by fit's weights; ``amount`` only ever
    reaches the objective."""
    matrix = CostMatrix([[0, 1], ["amount", 0]])
    weights = weights_cost if with_sample_weight else None
    registry = _Registry()
    with config_context(enable_metadata_routing=routing):
        estimator = LogisticRegression()
        consuming = ConsumingClassifier(registry)
        if routing:
            estimator.set_fit_request(sample_weight=True)
            consuming.set_fit_request(sample_weight=True)
        model = ThresholdTunedClassifier(estimator, objective=matrix, cv=CV_COST)
        model.fit(X_cost, y_cost, amount=amount, sample_weight=weights)
        ThresholdTunedClassifier(consuming, objective=matrix, cv=CV_COST).fit(
            X_cost, y_cost, amount=amount, sample_weight=weights
        )
    oof = _oof_scores(X_cost, y_cost, CV_COST, weights)
    assert model.best_score_ == pytest.approx(_brute_force_cost(oof, weights))
    assert np.all(
        model.predict(X_cost) == (model.predict_proba(X_cost)[:, 1] >= model.threshold_)
    )

    assert registry
    expected = {} if weights is None else {"sample_weight": weights}
    for fitted in registry:
        check_recorded_metadata(
            fitted,
            method="fit",
            parent="fit",
            split_params=tuple(expected),
            preserves_metadata="subset",
            **expected,
        )


def test_cost_matrix_routing_on_and_off_agree():
    matrix = CostMatrix([[0, 1], ["amount", 0]])
    off = ThresholdTunedClassifier(LogisticRegression(), objective=matrix, cv=CV_COST)
    off.fit(X_cost, y_cost, amount=amount, sample_weight=weights_cost)
    with config_context(enable_metadata_routing=True):
        on = ThresholdTunedClassifier(
            LogisticRegression().set_fit_request(sample_weight=True),
            objective=matrix,
            cv=CV_COST,
        ).fit(X_cost, y_cost, amount=amount, sample_weight=weights_cost)
    assert on.threshold_ == off.threshold_
    assert on.best_score_ == off.best_score_


def test_grid_search_routes_amount_through_the_tuner():
    matrix = CostMatrix([[0, 1], ["amount", 0]])
    grid = {"estimator__C": [0.1, 1.0]}
    cv = StratifiedKFold(3)
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            ThresholdTunedClassifier(LogisticRegression(), objective=matrix, cv=3),
            grid,
            cv=cv,
        ).fit(X_cost, y_cost, amount=amount)

    # Each candidate of each split was tuned on its training rows' amounts.
    for k, C in enumerate(grid["estimator__C"]):
        scores = []
        for train, test in cv.split(X_cost, y_cost):
            model = ThresholdTunedClassifier(
                LogisticRegression(C=C), objective=matrix, cv=3
            ).fit(X_cost[train], y_cost[train], amount=amount[train])
            scores.append(model.score(X_cost[test], y_cost[test]))
        assert search.cv_results_["mean_test_score"][k] == pytest.approx(
            np.mean(scores)
        )
    # And the refit on all rows with all amounts.
    best_C = search.best_params_["estimator__C"]
    direct = ThresholdTunedClassifier(
        LogisticRegression(C=best_C), objective=matrix, cv=3
    ).fit(X_cost, y_cost, amount=amount)
    assert search.best_estimator_.threshold_ == direct.threshold_
    assert search.best_estimator_.best_score_ == direct.best_score_
