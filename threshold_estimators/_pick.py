"""``pick_threshold``: the exact search on scores the user already has.

The estimator's single-cut rule, the command line's ``pick`` and the display's
``from_predictions`` all choose their cut through :func:`searched_pick`, so a
threshold never depends on which door it was asked through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real

import numpy as np
from sklearn.metrics import get_scorer_names
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
)
from sklearn.utils.validation import column_or_1d

from ._best_cut import Found, find_best
from ._dask_search import is_dask_collection
from ._prevalence import (
    check_prevalence,
    class_proportions,
    decision_weights,
    odds_shift,
)
from ._scoring import resolve_objective, tuned_class
from ._search import ThresholdCurve, as_float_array
from ._support import warn_if_unsupported
from ._validation import (
    check_metadata_read,
    check_row_metadata,
    check_target,
    check_target_shape,
    checked_weights_and_totals,
    plain,
)
from .objectives import Objective
from .objectives._base import precision_recall
from .objectives._cost_entries import per_row_cost


@dataclass(frozen=True)
class ThresholdPick:
    """The decision :func:`pick_threshold` chose, and its out-of-sample counts.

    Attributes
    ----------
    threshold : float
        Call a sample positive when its score is ``>= threshold``.
    score : float
        The objective at the threshold (a cost objective: the negative mean
        cost per unit of weight, greater being better).
    tp, fp, tn, fn : float
        The (weighted) confusion counts of the decision; integers without
        weights.
    precision, recall : float
        Of the decision; precision is NaN with no positive call.
    pos_label : object
        The positive class.
    objective : Objective
        The resolved objective.
    curve : ThresholdCurve
        The counts at every candidate threshold (not shown in the repr).
    objective_values : ndarray
        The objective at every candidate (NaN where not evaluated).
    index : int
        The chosen candidate of ``curve``.

    Notes
    -----
    A least-cost search over per-row costs on many rows evaluates only the
    candidates that can win; ``curve``, ``objective_values`` and ``index``
    are then built on first access (one sort of the scores).
    """

    threshold: float
    score: float
    tp: float
    fp: float
    tn: float
    fn: float
    precision: float
    recall: float
    pos_label: object
    # Compared (and hashed) by the decision and its counts alone.
    objective: Objective = field(compare=False)
    # The search behind the pick, with its whole curve (built when first read).
    search: Found = field(repr=False, compare=False)

    @property
    def curve(self) -> ThresholdCurve:
        return self.search.curve

    @property
    def objective_values(self) -> np.ndarray:
        return self.search.values

    @property
    def index(self) -> int:
        return self.search.index

    @property
    def positive_rate(self) -> float:
        """The (weighted) fraction of rows called positive: the flagged rate."""
        total = self.tp + self.fp + self.tn + self.fn
        return float((self.tp + self.fp) / total) if total > 0 else float("nan")

    @property
    def n_candidates(self) -> int:
        """The number of distinct scores, each a candidate cut."""
        return self.curve.thresholds.size - 1


def searched_pick(
    objective: Objective, y, y_score, sample_weight, *, dtype=np.float64, **rows
) -> ThresholdPick:
    """Search a resolved objective on validated arrays (``rows`` as for
    ``run_search``); the cut is a value of ``dtype``, the scores' own type (see
    ``cut_point``)."""
    found = find_best(objective, y, y_score, sample_weight, **rows)
    return _picked(found, objective, dtype, rows["pos_label"])


def _picked(found: Found, objective: Objective, dtype, pos_label) -> ThresholdPick:
    """The pick of a search's best candidate, its cut a value of ``dtype``."""
    tp, fp, tn, fn = found.counts
    precision, recall = precision_recall(*(np.array([c]) for c in found.counts))
    return ThresholdPick(
        threshold=found.cut(objective, dtype),
        score=found.value,
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        precision=float(precision[0]),
        recall=float(recall[0]),
        pos_label=plain(pos_label),
        objective=objective,
        search=found,
    )


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "objective": [Objective, StrOptions(set(get_scorer_names())), callable],
        "sample_weight": ["array-like", None],
        "pos_label": [Real, str, "boolean", None],
        "prevalence": [Interval(Real, 0.0, 1.0, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def pick_threshold(
    y_true,
    y_score,
    objective="f1",
    *,
    sample_weight=None,
    pos_label=None,
    prevalence=None,
    **metadata,
) -> ThresholdPick:
    """Choose the decision threshold of scores you already have, exactly.

    Every distinct score is a candidate cut; the confusion counts of all of
    them come from one sort, and the objective is evaluated on those counts,
    so the threshold is the exact optimum. On a binary target it is the
    search :class:`ThresholdTunedClassifier` runs on its out-of-fold scores
    (with ``cv="prefit"``, on the same scores, the same threshold).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. With more than two classes, ``pos_label`` is tuned against
        all the others as a binary problem: label metrics ("accuracy",
        "balanced_accuracy", "matthews_corrcoef") are those of ``pos_label``
        against the rest. (The estimator with ``pos_label=k`` knows each row's
        best other class and reports the multiclass metric instead; one score
        per row cannot.)
    y_score : array-like of shape (n_samples,)
        Finite scores of ``pos_label``, greater meaning more likely positive
        (a ``predict_proba`` column, a ``decision_function``, any ranking).
    objective : Objective, str or callable, default="f1"
        An objective of :mod:`threshold_estimators.objectives`, a scikit-learn
        scorer name or a scorer, as for :class:`ThresholdTunedClassifier`. A
        scorer that is not a function of the counts is called as
        ``scorer(estimator, X, y_true)`` with an ``X`` of no columns (binary
        targets only). A
        binary :class:`~threshold_estimators.objectives.CostMatrix` is written
        in sorted class order (with more than two classes: ``(rest,
        pos_label)``).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    pos_label : int, float, bool or str, default=None
        The positive class; ``None`` means the greater of two classes (with a
        warning unless the labels are 0/1, -1/1 or booleans).
    prevalence : float, default=None
        The share of ``pos_label`` the decision is made for, when it differs
        from ``y_true``'s: each class's rows are reweighted by its new over
        its observed share (the others keep their relative sizes), which is
        exact under label shift. The counts and score reported are those of
        the reweighted rows. None: ``y_true``'s own rate.
    **metadata : dict of array-like of shape (n_samples,)
        Per-row values the objective reads: the per-row costs a
        :class:`~threshold_estimators.objectives.CostMatrix` names (e.g.
        ``amount=amount``), or, for a scorer, its keyword arguments (scorers
        from ``make_scorer`` take them with metadata routing enabled).

    Returns
    -------
    pick : ThresholdPick
        ``threshold``, ``score``, the counts ``tp``, ``fp``, ``tn``, ``fn``,
        ``precision`` and ``recall`` at the cut, and the whole curve.

    Examples
    --------
    >>> from threshold_estimators import pick_threshold
    >>> from threshold_estimators.objectives import PrecisionTarget
    >>> y = [0, 0, 1, 1, 0, 1, 1, 0]
    >>> scores = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.6, 0.7]
    >>> pick = pick_threshold(y, scores, PrecisionTarget(0.75))
    >>> pick.threshold, pick.tp, pick.fp, pick.recall
    (0.5, 3, 1, 0.75)
    """
    if any(is_dask_collection(value) for value in (y_true, y_score, sample_weight)):
        from ._dask_pick import pick_on_dask

        return pick_on_dask(
            y_true, y_score, objective, sample_weight, pos_label, prevalence, metadata
        )
    y_true = column_or_1d(check_target_shape(y_true))
    if np.ndim(y_score) != 1:
        raise ValueError(
            "y_score must be 1-D, one score of the positive class per sample (for "
            "predict_proba output, its positive column); got shape "
            f"{np.shape(y_score)}."
        )
    dtype = np.asarray(y_score).dtype
    y_score = as_float_array(y_score, "y_score")
    if y_score.shape != y_true.shape:
        raise ValueError(
            "y_true and y_score must have the same length; got "
            f"{y_true.shape[0]} and {y_score.shape[0]}."
        )
    if not np.all(np.isfinite(y_score)):
        raise ValueError(
            f"y_score must be finite; got {np.count_nonzero(np.isnan(y_score))} NaN "
            f"and {np.count_nonzero(np.isinf(y_score))} infinite values."
        )
    classes, positive_index = check_target(
        y_true, tuned_class(pos_label, objective, None), "pick_threshold"
    )
    if positive_index is None:
        raise ValueError(
            f"pick_threshold tunes one class, and y_true has {len(classes)} "
            f"classes {[plain(c) for c in classes][:10]}: pass pos_label, the "
            "class whose scores y_score are."
        )
    pos_label = classes[positive_index]
    class_totals = None
    if sample_weight is not None:
        sample_weight, class_totals = checked_weights_and_totals(
            sample_weight, y_score, y_true, classes
        )
    shift = None
    given_weight = sample_weight  # at the training balance
    if prevalence is not None:
        rate = check_prevalence(prevalence, classes, pos_label)
        training = class_proportions(y_true, sample_weight, classes)
        sample_weight, _, ratio = decision_weights(
            y_true, sample_weight, classes, pos_label, rate
        )
        shift = odds_shift(ratio, training, positive_index)
    if len(classes) == 2:
        objective = resolve_objective(objective, None, positive_index)
        metadata = _objective_metadata(objective, metadata, y_true, sample_weight)
        # A scorer sees the labels themselves, and rows of no feature.
        found = searched_pick(
            objective,
            y_true,
            y_score,
            sample_weight,
            dtype=dtype,
            pos_label=pos_label,
            classes=classes,
            X=np.empty((y_true.shape[0], 0)),
            metadata=metadata,
            odds_shift=shift,
            # The weights' check summed each class in row order: unless a
            # prevalence reweighted the rows, the search's totals.
            binary_totals=(
                None
                if class_totals is None or shift is not None
                else (
                    float(class_totals[positive_index]),
                    float(class_totals[1 - positive_index]),
                )
            ),
        )
    else:
        found = _one_against_the_rest(
            objective, y_true, y_score, sample_weight, metadata, classes,
            pos_label, dtype, shift,
        )  # fmt: skip
        objective = found.objective
    warn_if_unsupported(
        objective,
        y_true == pos_label,
        y_score,
        found.threshold,
        rows="scored",
        odds_shift=shift,
        sample_weight=given_weight,
    )
    return found


def _one_against_the_rest(
    objective, y_true, y_score, sample_weight, metadata, classes, pos_label, dtype,
    shift,
):  # fmt: skip
    """The pick of class ``pos_label`` against the rest of a multiclass
    target, searched on booleans."""
    objective = resolve_objective(objective, None, 1, two_classes=False)
    if objective.reads_rows:
        raise ValueError(
            f"pick_threshold tunes class {plain(pos_label)!r} against the rest of "
            f"{len(classes)} classes with a count objective; the scorer "
            f"{objective.display_name!r} needs the rows and the other classes' "
            "labels. Use ThresholdTunedClassifier(..., pos_label=k), or a count "
            "objective (e.g. 'f1', PrecisionTarget)."
        )
    metadata = _objective_metadata(objective, metadata, y_true, sample_weight)
    # Searched on booleans, the tuned class True against the rest.
    found = searched_pick(
        objective,
        y_true == pos_label,
        y_score,
        sample_weight,
        dtype=dtype,
        pos_label=True,
        classes=np.array([False, True]),
        metadata=metadata,
        odds_shift=shift,
    )
    return ThresholdPick(**{**vars(found), "pos_label": plain(pos_label)})


def _objective_metadata(objective, metadata, y_true, sample_weight):
    """The metadata for ``objective``: its per-row costs, or a scorer's keyword
    arguments (with the weights, which a scorer also takes without them);
    None when there are none. Metadata the objective does not read are an
    error, not silently dropped."""
    if not metadata:
        return None
    check_row_metadata(metadata, y_true.shape[0])
    if objective.reads_rows:
        if sample_weight is not None:
            metadata = {**metadata, "sample_weight": sample_weight}
        if _routing_enabled() and objective.routes_metadata:
            # As a router would: what the scorer requests, under its aliases.
            router = MetadataRouter(owner="pick_threshold").add(
                objective=objective,
                method_mapping=MethodMapping().add(caller="score", callee="score"),
            )
            # The weights are pick_threshold's own (its counts): only the
            # rest must be requested by the scorer.
            router.validate_metadata(
                method="score",
                params={k: v for k, v in metadata.items() if k != "sample_weight"},
            )
            metadata = router.route_params(caller="score", params=metadata)
            return dict(metadata.objective.score)
        return metadata
    check_metadata_read(objective, metadata, "pick_threshold")
    # Checked on every row, as fit does, before zero-weight rows are dropped.
    return {
        name: per_row_cost(name, values, y_true.shape[0])
        for name, values in metadata.items()
    }
