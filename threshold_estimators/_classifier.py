"""ThresholdTunedClassifier: a classifier whose decision threshold is tuned by CV.

The estimator is a coordinator: it validates its parameters and data, routes
metadata, produces the out-of-fold scores, chooses a decision rule
(``_rules.choose_rule``) and delegates the decision to it.
"""

from __future__ import annotations

import copy
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
)
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, _safe_indexing, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRequest,
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _estimator_has,
    check_is_fitted,
    has_fit_parameter,
    indexable,
)

from ._folds import (
    check_ovo,
    cross_fitted_scores,
    prefit_scores,
    report,
    seconds_text,
)
from ._prevalence import check_prevalence, decision_weights
from ._retarget import record_out_of_fold, retargeted
from ._rules import choose_rule, is_binary_only
from ._scoring import resolve_objective, tuned_class
from ._selection import subset_metadata
from ._validation import (
    check_both_classes_scored,
    check_row_metadata,
    check_split_pairs,
    check_splits,
    check_target_counts,
    check_target_shape,
    checked_weights_and_totals,
    class_index,
)
from .objectives import Objective

_RESPONSE_METHODS = ("predict_proba", "decision_function")


class RefitNeededError(ValueError):
    """A saved model this version cannot use: it must be fitted again."""


def _sample_weight_parameter(estimator):
    """The ``fit`` parameter that takes sample weights, or None.

    A Pipeline takes them as ``<last step>__sample_weight`` (without metadata
    routing), which is how its final estimator is fitted with weights.
    """
    if has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        if last != "passthrough" and has_fit_parameter(last, "sample_weight"):
            return f"{name}__sample_weight"
    return None


def _recalibrates_or_estimator_has(method):
    """``available_if`` check: recalibration provides ``method`` by itself."""
    estimator_has = _estimator_has(method)

    def check(self):
        return self.recalibrate or estimator_has(self)

    return check


def _decision_text(rule, objective, n_rows: int, prefit: bool) -> str:
    """The fitted decision and its objective value, for ``verbose``."""
    threshold = rule.threshold_
    if rule.cost_rule_ is not None:
        decision = f"k x k cost rule {rule.cost_rule_!r}"
    elif np.ndim(threshold) == 0:
        decision = f"threshold {float(threshold):.6g}"
    else:
        decision = "thresholds " + ", ".join(f"{float(t):.4g}" for t in threshold)
    # A cost objective shows the cost (its score negated); a rate target,
    # which draws no curve of its own, the rate it maximizes, by its name.
    shown = objective.curve_label([rule.best_score_])
    if shown is None:
        shown = objective.display_name, [rule.best_score_]
    name, value = shown
    rows = "rows scored by the prefit model" if prefit else "out-of-fold rows"
    return f"{decision} ({name}: {float(value[0]):.4g} on {n_rows} {rows})"


def _from_rule(name: str, doc: str) -> property:
    """A fitted attribute read from the rule (``AttributeError`` when unfitted,
    or when the rule does not keep it, as ``cv_results_`` without storing).

    Setting it sets the rule's, which the decision reads: moving ``threshold_``
    by hand moves the cut, as it did before rules (a calibrator, if any, stays
    fitted around the cut found at ``fit``).
    """

    def get(self):
        check_is_fitted(self)
        value = getattr(self.rule_, name)
        if value is None and name == "cv_results_":
            raise AttributeError(
                "cv_results_ is kept only when fitting with store_cv_results=True."
            )
        return value

    def set(self, value):
        check_is_fitted(self)
        # Copied first: a copy of the estimator (copy.copy) shares the rule,
        # and moving one's cut must not move the other's.
        self.rule_ = copy.copy(self.rule_)
        setattr(self.rule_, name, value)

    return property(get, set, doc=doc)


class ThresholdTunedClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Classifier whose decision threshold is tuned by cross-validation.

    The inner estimator is fitted on each training fold; the scores it gives its
    validation fold are pooled, and the confusion counts at **every** distinct
    pooled score are computed from one sort. The objective is evaluated on those
    counts, so the threshold found is the exact optimum over all possible cuts
    of the out-of-fold scores (no grid). Finally the estimator is refitted on
    all the data, and :meth:`predict` calls a sample positive when its score is
    ``>= threshold_``.

    Parameters
    ----------
    estimator : estimator instance
        A classifier with ``fit`` and ``predict_proba`` or ``decision_function``.
        An already fitted one can be wrapped in
        :class:`sklearn.frozen.FrozenEstimator` (never refitted) or used with
        ``cv="prefit"``.

    objective : Objective, str or callable, default="f1"
        What the threshold is chosen for:

        - an objective from :mod:`threshold_estimators.objectives`:
          :class:`~threshold_estimators.objectives.F1`,
          :class:`~threshold_estimators.objectives.FBeta`,
          :class:`~threshold_estimators.objectives.PrecisionTarget`,
          :class:`~threshold_estimators.objectives.RecallTarget`,
          :class:`~threshold_estimators.objectives.CostMatrix`, or
          :class:`~threshold_estimators.objectives.FixedThreshold` to give the
          cut yourself (no search);
        - a scikit-learn scorer name or ``make_scorer`` scorer. Those whose
          metric is a function of the confusion counts ("f1", "precision",
          "recall", "accuracy", "balanced_accuracy", "jaccard",
          "matthews_corrcoef", ``make_scorer(fbeta_score, beta=...)``) are
          searched exactly, for the class ``pos_label``;
        - any other scorer ``scorer(estimator, X, y)`` is evaluated at no more
          than 256 candidate thresholds (see ``ScorerObjective``).

    cv : int, float, cross-validation generator, iterable or "prefit", default=5
        How the out-of-fold scores are produced:

        - an int: the number of folds of a stratified K-fold split, shuffled
          when ``random_state`` is set;
        - a float in (0, 1): one stratified split holding out that fraction;
        - a splitter, or an iterable of ``(train, test)`` index arrays. Samples
          in several test sets count once per set; samples in none are not used
          to choose the threshold;
        - ``"prefit"``: ``estimator`` is already fitted and is used as is, and
          the threshold is tuned on the data passed to :meth:`fit` (which should
          not be the data the estimator was trained on). ``refit`` is ignored.

    refit : bool, default=True
        Whether to refit the estimator on all the data once the threshold is
        found. ``False`` keeps the model of the single training split and needs
        a ``cv`` with one split.

    recalibrate : bool, default=False
        Whether to fit a :class:`PiecewiseLogisticCalibrator` on the out-of-fold
        scores at ``threshold_``. Then :meth:`predict_proba` returns its
        *operating* probabilities, which are 0.5 at the threshold, so that the
        tuned class's probability is ``>= 0.5`` exactly where ``predict``
        returns it (binary targets: ``predict`` also equals the argmax, and
        ``decision_function`` is the operating log-odds, ``> 0`` for
        ``classes_[1]``; every class tuned: ``predict`` is the argmax of the
        renormalized operating probabilities, whose fitted slopes may move a few
        decisions compared with ``recalibrate=False``);
        :meth:`predict_posterior_proba` gives the calibrated probabilities at the
        class balance the decision is made for (``prevalence_``: the training
        balance unless ``prevalence`` or :meth:`retarget` moved it). Without
        it, ``predict_proba`` and ``decision_function`` are the inner
        estimator's, untouched.

    response_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        The estimator's method whose output is thresholded; ``"auto"`` uses
        ``predict_proba`` when it exists, else ``decision_function``.

    pos_label : int, float, bool or str, default=None
        The class whose score is thresholded and for which precision, recall and
        F-scores are computed. On a binary target ``None`` means ``classes_[1]``;
        that is ``1`` (or ``True``) for 0/1, -1/1 and boolean targets, and for
        any other labels a ``UserWarning`` asks to name the class explicitly.
        On a multiclass target, a class is tuned against the rest: it is
        predicted when its score clears ``threshold_``, else the most likely of
        the other classes is; ``None`` tunes every class (see ``threshold_``).

    n_jobs : int, default=None
        Number of jobs fitting the folds (and the final refit) in parallel via
        joblib. ``None`` means 1 unless in a :func:`joblib.parallel_config`
        context, which can also send the fits to a dask or ray cluster.

    verbose : int, default=0
        Progress messages of :meth:`fit`, printed to **stderr** (scikit-learn's
        search estimators print to stdout; stderr keeps stdout for data, e.g.
        the command line's ``--json``). 0 prints nothing; 1 or more prints one
        line as each fold fit and the refit finish, in the order they finish
        (also with ``n_jobs``: reported by this process as joblib hands each
        result back, except with backends that cannot return results as they
        come, such as ``"multiprocessing"`` or ray's, where they are reported
        once all have finished), then the threshold chosen and its objective
        value. Values above 1 print the same for now. The fitted model does
        not depend on it.

    random_state : int, RandomState instance or None, default=None
        Shuffles the folds when ``cv`` is an int, and seeds the split when ``cv``
        is a float. It does not seed the inner estimator.

    store_cv_results : bool, default=False
        Whether to keep the whole out-of-fold curve in ``cv_results_``.

    prevalence : float, array-like of shape (n_classes,) or None, default=None
        The base rate the decision is made for, when it differs from the
        training data's: the share of ``pos_label`` (a binary target's
        positive class), or one proportion per class (in the order of
        ``classes_``, or keyed by class: a dict, or a pandas Series indexed
        by the classes) when every class is tuned. None: the (weighted)
        training rate. Under label shift (each class's scores keep their
        distribution, only the class proportions move), the out-of-fold
        rows of each class are reweighted by its new over its training
        proportion and the same exact search runs on them, so every
        objective (F1, precision and recall targets with their confidence
        bounds, costs, budgets) is optimized for that rate; a scorer
        objective sees it through ``sample_weight`` (under metadata routing
        it must request it), and one that takes no weights is refused. The
        model is fitted as without it; see :meth:`retarget` to change it
        later.

    retargetable : bool, default=True
        Whether to keep the out-of-fold rows the decision was searched on
        (``out_of_fold_``: scores, labels, folds, weights and per-row costs;
        never ``X``), so that :meth:`retarget` can re-decide for another
        base rate without refitting. They cost about 10 bytes per training
        row (8 per score and class for every class tuned, 8 more per weight
        and per-row cost) in the fitted model; False keeps it lean.

    Attributes
    ----------
    estimator_ : estimator instance
        The fitted estimator used by :meth:`predict`.

    objective_ : Objective
        The resolved objective the decision was fitted for (a scorer name
        becomes its count objective; a 2 x 2
        :class:`~threshold_estimators.objectives.CostMatrix` is reordered so
        that ``pos_label_`` comes second). Displays and the command line read
        it, never the ``objective`` parameter, which may have been changed
        since.

    rule_ : DecisionRule
        The fitted decision: one cut (``SingleCut``, or ``FixedCut`` at a
        user's cut), a cut per class (``PerClassCuts``) or the k x k cost rule
        (``CostRule``). It owns the decision, the probabilities, the
        calibrators and ``cv_results_``; the attributes below are read from
        it.

    classes_ : ndarray of shape (n_classes,)
        The class labels.

    pos_label_ : int, float, bool, str or None
        The tuned class; None when every class of a multiclass target is tuned.

    threshold_ : float
        The decision threshold on the score of ``pos_label_``: a sample is
        called ``pos_label_`` when its score is ``>= threshold_``. Every value
        between two adjacent distinct out-of-fold scores gives the same
        out-of-fold decisions; the midpoint of the optimal gap is used (the
        lowest score when every sample is called positive, the next float above
        the highest score when none is).

        ndarray of shape (n_classes,) when every class of a multiclass target is
        tuned (``pos_label=None``): each class's own one-vs-rest threshold, and a
        sample goes to the class whose score clears its threshold by the most in
        the logit domain, ``argmax_k (logit(p_k) - logit(t_k))`` (score
        differences for ``decision_function``), or, recalibrated, the class with
        the highest operating probability. With a k x k
        :class:`~threshold_estimators.objectives.CostMatrix` it holds per-class
        offsets instead: a sample goes to ``argmin_k (E_k - threshold_[k])``,
        where ``E = softmax(log(predict_proba) / cost_temperature_) @ matrix``
        are the expected costs under probabilities recalibrated by a
        temperature fitted on the out-of-fold log-loss. The offsets are zero
        (plug-in Bayes) unless offsets fitted on other folds cost significantly
        less on each held-out fold (a one-sided paired test per sample at the
        5 % level); they are then fitted on all the out-of-fold data by exact
        coordinate descent. ``cost_rule_`` says which rule was kept.

    best_score_ : float
        The objective at ``threshold_`` on the pooled out-of-fold data (for a
        :class:`~threshold_estimators.objectives.CostMatrix`, the negative mean
        cost per unit of sample weight); when every class is tuned by a
        per-class objective, the mean over classes of each one-vs-rest value,
        except for "accuracy", "balanced_accuracy" and "matthews_corrcoef",
        which are the metric of the combined out-of-fold predictions.

    cost_rule_ : {"bayes", "offsets"} or None
        With a k x k cost matrix, the rule kept (see ``threshold_``); else None.

    cost_temperature_ : float or None
        With a k x k cost matrix, the temperature applied to the log
        probabilities before the expected costs (see ``threshold_``); else
        None.

    threshold_std_ : float, ndarray of shape (n_classes,), or None
        The standard deviation over the folds of each fold's own best threshold
        (searched on that fold's out-of-fold scores alone; folds without a
        feasible threshold left out; NaN with fewer than two): how much the
        threshold would move with other training data. Per class when every
        class is tuned; None with a k x k cost matrix.

    calibrator_ : PiecewiseLogisticCalibrator, list of them, or None
        The calibrator fitted on the out-of-fold scores when ``recalibrate=True``
        (one per class when every class is tuned), else None.

    cv_results_ : dict of ndarrays
        Only with ``store_cv_results=True``. ``"thresholds"`` (the candidates:
        ``+inf``, then the distinct out-of-fold scores in decreasing order),
        ``"objective"``, ``"precision"`` and ``"recall"`` of each candidate,
        ``"tp"``, ``"fp"``, ``"tn"``, ``"fn"`` (weighted counts),
        ``"fold_thresholds"`` (each fold's own best threshold, NaN where a fold
        has no feasible one), ``"fold_threshold_std"`` (``threshold_std_``)
        and ``"fold_curves"`` (per fold, a dict of its ``"thresholds"``,
        ``"objective"``, ``"precision"`` and ``"recall"``; None for a fold
        without a feasible threshold). When every class is tuned:
        ``"class_thresholds"``, ``"class_scores"``, ``"fold_thresholds"`` of
        shape (n_folds, n_classes) and ``"fold_threshold_std"``; with the
        k x k cost rule: ``"class_offsets"``, ``"rule"``, ``"temperature"`` and
        ``"cost"`` (out of fold).

    prevalence_ : float or ndarray of shape (n_classes,)
        The base rate the current decision is made for: the ``prevalence``
        given, the training rate, or what :meth:`retarget` set or estimated.

    prevalence_estimate_ : PrevalenceEstimate or None
        After :meth:`retarget` with unlabelled rows: the estimated rate, its
        standard error, a 95 % interval, the method and the number of rows;
        else None.

    out_of_fold_ : dict or None
        With ``retargetable=True``, the out-of-fold rows the decision was
        searched on, as arrays: ``"score"``, ``"fold"``, ``"labels"`` (class
        indices), ``"sample_weight"`` (as given to ``fit``), ``"metadata"``
        (per-row costs), ``"alternative"``, ``"dtype"`` and ``"threshold"``
        (the fit's); else None.

    n_features_in_ : int
        Number of features seen during :term:`fit`, when the estimator exposes it.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when the estimator exposes
        them.

    See Also
    --------
    sklearn.model_selection.TunedThresholdClassifierCV : scikit-learn's tuner,
        which searches a grid of thresholds with a mean of per-fold scores.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from threshold_estimators import ThresholdTunedClassifier
    >>> from threshold_estimators.objectives import PrecisionTarget
    >>> X, y = make_classification(
    ...     n_samples=4_000, weights=[0.9], class_sep=1.5, random_state=0
    ... )
    >>> model = ThresholdTunedClassifier(
    ...     LogisticRegression(), objective=PrecisionTarget(0.9)
    ... ).fit(X, y)
    >>> print(f"cut at {model.threshold_:.3f}, recall {model.best_score_:.3f}")
    cut at 0.539, recall 0.800
    >>> model.predict(X[:5])
    array([0, 0, 0, 0, 0])
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
        ],
        "objective": [Objective, StrOptions(set(get_scorer_names())), callable],
        "cv": [
            "cv_object",
            StrOptions({"prefit"}),
            Interval(RealNotInt, 0.0, 1.0, closed="neither"),
        ],
        "refit": ["boolean"],
        "recalibrate": ["boolean"],
        "response_method": [StrOptions({"auto", *_RESPONSE_METHODS})],
        "pos_label": [Real, str, "boolean", None],
        "n_jobs": [Integral, None],
        "verbose": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "store_cv_results": ["boolean"],
        "prevalence": [Interval(Real, 0.0, 1.0, closed="neither"), "array-like", None],
        "retargetable": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        *,
        objective="f1",
        cv=5,
        refit=True,
        recalibrate=False,
        response_method="auto",
        pos_label=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
        store_cv_results=False,
        prevalence=None,
        retargetable=True,
    ):
        self.estimator = estimator
        self.objective = objective
        self.cv = cv
        self.refit = refit
        self.recalibrate = recalibrate
        self.response_method = response_method
        self.pos_label = pos_label
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state
        self.store_cv_results = store_cv_results
        self.prevalence = prevalence
        self.retargetable = retargetable

    @_fit_context(
        # The inner estimator is validated when it is fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the folds, tune the threshold on their scores, refit.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            Training data, as accepted by the inner estimator.
        y : array-like of shape (n_samples,)
            Binary or multiclass target.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, used in the confusion counts and passed to the
            estimator's ``fit`` when it accepts them (without metadata routing;
            with routing enabled they go where they are requested).
        **fit_params : dict
            Further parameters for the estimator's ``fit`` and the splitter's
            ``split`` (e.g. ``groups``); they need metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        start = time.perf_counter()
        X, y = indexable(X, y)
        y = check_target_shape(y)
        wanted = tuned_class(self.pos_label, self.objective, self.estimator)
        classes, positive_index, counts = check_target_counts(y, wanted)
        pos_label = None if positive_index is None else classes[positive_index]
        # Each class's total weight: its rows, or summed with the weights' check.
        class_totals = counts.astype(np.float64)
        if sample_weight is not None:
            sample_weight, class_totals = checked_weights_and_totals(
                sample_weight, X, y, classes
            )
        objective = resolve_objective(
            self.objective, self.estimator, positive_index, n_classes=len(classes)
        )
        prevalence = check_prevalence(self.prevalence, classes, pos_label)
        routed = self._route(sample_weight, fit_params, objective)
        checked_weight = sample_weight
        metadata, sample_weight = self._objective_inputs(
            routed, objective, sample_weight
        )
        if sample_weight is not checked_weight:
            class_totals = None  # a scorer declined (or took other) weights
        check_row_metadata(metadata, len(y))
        if objective.metadata_names and self.cv != "prefit":
            # Per-row costs are checked before any fold is fitted (with
            # "prefit", when the rule reads them, on the same rows).
            truth = classes.searchsorted(y) if pos_label is None else y == pos_label
            objective.row_costs(metadata, truth)
        rule = choose_rule(
            objective,
            classes=classes,
            pos_label=pos_label,
            response_method=self._response_method(self.estimator),
            recalibrate=self.recalibrate,
            store_cv_results=self.store_cv_results,
            estimator_name=type(self.estimator).__name__,
        )
        oof = self._out_of_fold(X, y, rule, routed)
        # "prefit" scores every row once, in order: views, not copies.
        rows = slice(None) if oof.index is None else oof.index
        y_oof = y[rows]
        weight_oof = None if sample_weight is None else sample_weight[rows]
        if self.cv != "prefit":  # "prefit" scores every row: all classes are in
            check_both_classes_scored(class_index(y_oof, classes), weight_oof, classes)
        # Only row objectives (scorers) read the rows.
        X_oof = _safe_indexing(X, rows) if objective.reads_rows else None
        metadata_oof = subset_metadata(metadata, rows)
        decision_weight, prevalence_, class_ratio = decision_weights(
            y_oof,
            weight_oof,
            classes,
            pos_label,
            prevalence,
            # "prefit" scores every row: their totals are the out-of-fold ones.
            totals=class_totals if self.cv == "prefit" else None,
        )
        # The rule needs the ratios to fit its calibrators at the training
        # balance and move them to the prevalence's.
        rule.class_ratio = class_ratio
        # The weights' check summed each class over these very rows, in
        # their order ("prefit"), unless a prevalence reweighted them.
        known_totals = (
            class_totals
            if oof.index is None
            and weight_oof is not None
            and decision_weight is weight_oof
            else None
        )
        rule.fit(
            oof, y_oof, decision_weight, X_oof, metadata_oof, class_totals=known_totals
        )

        # Fitted attributes are set together, once nothing can fail any more.
        self.estimator_ = oof.estimator
        self.classes_, self.pos_label_ = classes, pos_label
        self.objective_, self.rule_ = objective, rule
        self.prevalence_, self.prevalence_estimate_ = prevalence_, None
        self.out_of_fold_ = (
            record_out_of_fold(
                oof, y_oof, weight_oof, metadata_oof, classes, rule.threshold_
            )
            if self.retargetable
            else None
        )
        for attribute in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attribute):
                setattr(self, attribute, getattr(self.estimator_, attribute))
        if self.verbose:
            decision = _decision_text(rule, objective, len(y_oof), self.cv == "prefit")
            elapsed = seconds_text(time.perf_counter() - start)
            report(f"{decision}; fit done in {elapsed}")
        return self

    def retarget(self, prevalence=None, X=None, *, method="auto"):
        """Re-decide for another base rate, without refitting the model.

        Under label shift (each class's scores keep their distribution,
        only the class proportions move), the decision for a new rate is
        searched exactly on the kept out-of-fold rows, reweighted: the
        result equals ``fit`` with ``prevalence`` and the same folds, in the
        time of a search. Recalibrated probabilities are refitted on the
        reweighted rows, so they follow the new rate.

        Parameters
        ----------
        prevalence : float, array-like of shape (n_classes,) or None, default=None
            The new rate (see the ``prevalence`` parameter). None with ``X``
            None: back to the training rate.
        X : {array-like, sparse matrix, dataframe} or None, default=None
            Unlabelled deployment rows to estimate the rate from (at least
            50; a few thousand give about ±0.01), instead of giving it.
        method : {"auto", "em", "bbse"}, default="auto"
            How the rate is estimated from ``X``: ``"em"``, expectation-
            maximization on the out-of-fold scores recalibrated (Saerens et
            al. 2002): of the tuned class by a piecewise logistic or, when
            every class is tuned, of every class by temperature scaling (by
            matrix scaling where one temperature cannot follow the scores'
            confusion, as with trees); ``"bbse"``, black-box shift
            estimation, inverting the out-of-fold confusion matrix of a
            decision (Lipton et al. 2018); ``"auto"``, ``"em"`` (the smaller
            error, measured: see the base-rate guide). Only with ``X``:
            a method given without rows is refused.

        Returns
        -------
        self : object
            The model, deciding for the new rate (``prevalence_``; with
            ``X``, ``prevalence_estimate_`` holds the estimate).
        """
        check_is_fitted(self)
        self.rule_, self.prevalence_, self.prevalence_estimate_ = retargeted(
            self, prevalence, X, method
        )
        return self

    def _out_of_fold(self, X, y, rule, routed):
        """The pooled out-of-fold scores the rule is fitted on."""
        check_ovo(self.estimator, rule.response_method, len(rule.classes))
        if self.cv == "prefit":
            return prefit_scores(
                self.estimator,
                X,
                rule.response_method,
                rule.pos_label,
                rule.classes,
                verbose=self.verbose,
            )
        splits = self._check_cv(y).split(X, y, **routed.splitter.split)
        return cross_fitted_scores(
            self.estimator,
            X,
            y,
            splits=check_splits(splits, y, rule.classes),
            refit=self.refit,
            fit_params=routed.estimator.fit,
            response_method=rule.response_method,
            pos_label=rule.pos_label,
            classes=rule.classes,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )

    def _route(self, sample_weight, fit_params, objective):
        """Where each ``fit`` parameter goes: ``estimator.fit``,
        ``splitter.split`` and ``objective.score`` (per-row costs, a scorer's
        requests; None for a scorer when routing is off)."""
        if _routing_enabled():
            return process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            )
        # Per-row costs named by the objective are its own, routing or not;
        # they never reach the estimator.
        names = objective.metadata_names
        costs = {name: fit_params.pop(name) for name in names if name in fit_params}
        _raise_for_params(fit_params, self, "fit")
        estimator_fit = {}
        fits = sample_weight is not None and self.cv != "prefit"
        if fits and not isinstance(self.estimator, FrozenEstimator):
            weight_param = _sample_weight_parameter(self.estimator)
            if weight_param is not None:
                estimator_fit[weight_param] = sample_weight
            else:
                warnings.warn(
                    f"{type(self.estimator).__name__}.fit does not accept "
                    "sample_weight: the weights are used in the threshold search "
                    "only, not in fitting the estimator.",
                    UserWarning,
                    stacklevel=4,
                )
        return Bunch(
            estimator=Bunch(fit=estimator_fit),
            splitter=Bunch(split={}),
            objective=Bunch(score=costs if names else None),
        )

    def _objective_inputs(self, routed, objective, sample_weight):
        """The objective's metadata and the weights the decision is fitted
        with.

        Under routing a scikit-learn scorer given as objective takes what it
        requests, its weights included (none if declined), and the decision
        is fitted with the weights it takes (``fit``'s, already checked, or
        none). A scorer name or an objective object takes ``fit``'s weights;
        so does a plain function, which has no way to request anything (None:
        the weights, as without routing).
        """
        metadata = routed.objective.score
        if objective.reads_rows and not objective.routes_metadata:
            return None, sample_weight
        scorer = self.objective
        if (
            _routing_enabled()
            and not isinstance(scorer, (str, Objective))
            and hasattr(scorer, "get_metadata_routing")
        ):
            return metadata, metadata.get("sample_weight")
        return metadata, sample_weight

    def _objective_request(self):
        """The objective's entry in the metadata routing (``score``)."""
        if isinstance(self.objective, str):
            # A scorer name is evaluated here, on fit's weights.
            request = MetadataRequest(owner=self.objective)
            request.score.add_request(param="sample_weight", alias=True)
            return request
        return self.objective

    def _response_method(self, estimator):
        methods = (
            _RESPONSE_METHODS
            if self.response_method == "auto"
            else (self.response_method,)
        )
        for method in methods:
            if hasattr(estimator, method):
                return method
        raise ValueError(
            f"{type(estimator).__name__} has no {' or '.join(methods)} method; "
            "the decision threshold applies to the output of such a method."
        )

    def _check_cv(self, y):
        if isinstance(self.cv, Real) and not isinstance(self.cv, Integral):
            return StratifiedShuffleSplit(
                n_splits=1, test_size=self.cv, random_state=self.random_state
            )
        if isinstance(self.cv, Integral) and self.random_state is not None:
            return StratifiedKFold(
                self.cv, shuffle=True, random_state=self.random_state
            )
        cv = self.cv
        if cv is not None and not isinstance(cv, Integral) and not hasattr(cv, "split"):
            cv = check_split_pairs(cv)
        return check_cv(cv, y, classifier=True)

    threshold_ = _from_rule("threshold_", "The tuned decision (see the class doc).")
    best_score_ = _from_rule("best_score_", "The objective at the decision.")
    threshold_std_ = _from_rule("threshold_std_", "Spread of the fold thresholds.")
    calibrator_ = _from_rule("calibrator_", "The fitted calibrator(s), or None.")
    cost_rule_ = _from_rule("cost_rule_", "The k x k cost rule kept, or None.")
    cost_temperature_ = _from_rule("cost_temperature_", "The cost rule's temperature.")
    cv_results_ = _from_rule("cv_results_", "The out-of-fold curves, when stored.")

    def predict(self, X):
        """Predict the class of each sample with the tuned threshold.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``pos_label_`` where its score is ``>= threshold_``, elsewhere the
            other class (multiclass: the most likely other class); when every
            class is tuned, the rule described under ``threshold_``.
        """
        check_is_fitted(self)
        return self.rule_.predict(self.estimator_, X)

    @available_if(_recalibrates_or_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities: recalibrated around the threshold, or the estimator's.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            With ``recalibrate=True``, the operating probabilities: a tuned
            class's column is ``>= 0.5`` exactly where :meth:`predict` returns
            it (every class tuned: renormalized, and :meth:`predict` is their
            argmax). Otherwise the inner estimator's ``predict_proba``, with
            its columns in the order of ``classes_`` (sorted, whatever the
            estimator's own order).
        """
        check_is_fitted(self)
        return self.rule_.probabilities(self.estimator_, X, "predict_proba")

    @available_if(_recalibrates_or_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.rule_.probabilities(self.estimator_, X, "predict_log_proba")

    @available_if(_recalibrates_or_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function: operating log-odds, or the estimator's.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            With ``recalibrate=True`` on a binary target, the log-odds of
            ``classes_[1]`` under the operating probabilities: ``> 0`` exactly
            where :meth:`predict` returns ``classes_[1]``; on a multiclass
            target, the log of :meth:`predict_proba`. Otherwise the inner
            estimator's ``decision_function``.
        """
        check_is_fitted(self)
        return self.rule_.decision_function(self.estimator_, X)

    @available_if(lambda self: self.recalibrate)
    def predict_posterior_proba(self, X):
        """Calibrated probabilities at the class balance ``prevalence_``.

        Only with ``recalibrate=True``: the piecewise-logistic posterior
        (with its intercept), for when the probability itself matters rather
        than the decision; its 0.5 point is not the tuned threshold. It is
        fitted at the training class balance; with a ``prevalence`` (or after
        :meth:`retarget`) its intercept is moved by the change of the prior
        log-odds (Bayes' prior correction).

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.rule_.probabilities(self.estimator_, X, "predict_posterior_proba")

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` parameters to the estimator's ``fit``, the
            splitter's ``split`` and the objective's ``score``: a scorer's own
            requests (e.g. ``set_score_request(amount=True)``; it is called on
            the out-of-fold rows, with the metadata sliced to them), or the
            per-row costs a
            :class:`~threshold_estimators.objectives.CostMatrix` names.
            ``sample_weight`` is also consumed by the threshold search itself,
            except that a scorer given as objective decides by its request.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                objective=self._objective_request(),
                method_mapping=MethodMapping().add(caller="fit", callee="score"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = get_tags(self.estimator)
        tags.input_tags.sparse = estimator_tags.input_tags.sparse
        tags.input_tags.allow_nan = estimator_tags.input_tags.allow_nan
        if is_binary_only(self.objective, self.pos_label):
            tags.classifier_tags.multi_class = False
        return tags

    def __setstate__(self, state):
        if "threshold_" in state and "rule_" not in state:
            # Fitted before decision rules (threshold_estimators 0.1.0.dev0 up
            # to issue 13): its decision lives in attributes this version no
            # longer reads. Refusing is safer than guessing it back.
            raise RefitNeededError(
                "This ThresholdTunedClassifier was fitted and saved by an earlier "
                "version of threshold_estimators, which stored its decision "
                "differently; this version cannot use it. Refit it with this "
                "version (fit on the same data gives the same decision) and save "
                "it again."
            )
        super().__setstate__(state)
