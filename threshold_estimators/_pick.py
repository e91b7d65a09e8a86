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
from ._dask_costs import dask_least_cost
from ._dask_search import dask_best, is_dask_collection
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
    check_weights,
    plain,
)
from .objectives import Objective
from .objectives._base import precision_recall
from .objectives._cost_entries import cost_numbers, per_row_cost


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
        import dask

        # dask fails to fuse the array of a one-partition dask series with a
        # reduction of it ("Cannot fuse tasks with multiple outputs", dask
        # 2026.8): the passes, whose per-partition work is one task each,
        # gain nothing from fusing anyway.
        with dask.config.set({"optimization.fuse.active": False}):
            return _pick_on_dask(
                y_true,
                y_score,
                objective,
                sample_weight,
                pos_label,
                prevalence,
                metadata,
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
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight, y_score, y_true, classes)
    shift = None
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
        )
        warn_if_unsupported(
            objective, y_true == pos_label, y_score, found.threshold, rows="scored"
        )
        return found
    # (rest, pos_label)
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
    warn_if_unsupported(
        objective, y_true == pos_label, y_score, found.threshold, rows="scored"
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


class _NotGathered:
    """The whole curve of a distributed search, which is never gathered."""

    def __call__(self):
        raise ValueError(
            "pick_threshold on dask arrays gathers only the candidates that can "
            "win, not the whole curve (curve, objective_values, index); compute "
            "the arrays and pick in memory to get it."
        )


def _pick_on_dask(
    y_true, y_score, objective, sample_weight, pos_label, prevalence, metadata
) -> ThresholdPick:
    """:func:`pick_threshold` on dask arrays (``_dask_search``): binary
    targets and count objectives that rise with the true positives and fall
    with the false ones (F1, F-beta, precision and recall targets)."""
    import dask.array as da

    from ._dask_search import _as_dask_array

    y = _as_dask_array(y_true, "y_true")
    score = _as_dask_array(y_score, "y_score")
    if y.shape[0] != score.shape[0]:
        raise ValueError(
            "y_true and y_score must have the same length; got "
            f"{y.shape[0]} and {score.shape[0]}."
        )
    if sample_weight is not None:
        sample_weight = _as_dask_array(sample_weight, "sample_weight")
        if sample_weight.shape[0] != score.shape[0]:
            raise ValueError(
                "sample_weight must have one weight per sample "
                f"({score.shape[0]}); got {sample_weight.shape[0]}."
            )
    if prevalence is not None:
        raise ValueError(
            "pick_threshold on dask arrays takes no prevalence yet; got "
            f"prevalence={prevalence!r}. Compute the arrays to pick in memory."
        )
    labels = np.asarray(da.unique(y).compute())
    classes, positive_index = check_target(
        labels, tuned_class(pos_label, objective, None), "pick_threshold"
    )
    if len(classes) != 2:
        raise ValueError(
            "pick_threshold on dask arrays needs binary labels; y_true has "
            f"{len(classes)} classes {[plain(c) for c in classes][:10]}."
        )
    resolved = resolve_objective(objective, None, positive_index)
    pos_label = classes[positive_index]
    labels = (classes[1 - positive_index], pos_label)
    if resolved.sums_are_costs and resolved.metadata_names:
        check_metadata_read(resolved, metadata, "pick_threshold")
        resolved.check_given(metadata)
        metadata = {name: _per_row_dask(name, v, score) for name, v in metadata.items()}
        found = dask_least_cost(
            resolved, y, score, sample_weight, metadata, labels=labels
        )
        return _dask_picked(resolved, score, pos_label, found)
    check_metadata_read(resolved, metadata, "pick_threshold")
    weighted_bound = sample_weight is not None and resolved.needs_sample_sizes
    if (
        getattr(resolved, "count_directions", None) is None
        or resolved.summed_rows is not None
        or resolved.reads_rows
        or weighted_bound
    ):
        raise ValueError(
            "pick_threshold on dask arrays searches count objectives that rise "
            "with the true positives and fall with the false ones: F1, FBeta, "
            "PrecisionTarget and RecallTarget (with confidence: the pointwise "
            "selection, unweighted) and a binary CostMatrix (fixed or per-row "
            "costs); got "
            f"{resolved!r}. Compute the arrays to "
            "pick in memory."
        )
    found = dask_best(resolved, y, score, sample_weight, labels=labels)
    return _dask_picked(resolved, score, pos_label, found)


def _dask_picked(objective, score, pos_label, result) -> ThresholdPick:
    """The pick of a distributed search's ``(threshold, lower, value,
    counts, gathered)``."""
    *best, gathered = result
    found = Found(*best, whole=_NotGathered())
    found.n_gathered = gathered
    return _picked(found, objective, score.dtype, pos_label)


def _per_row_dask(name, values, score):
    """A per-row cost as a dask array aligned with ``score``, or a
    ValueError naming the rule it breaks (as ``per_row_cost`` in memory)."""
    from ._dask_search import _as_dask_array

    if hasattr(values, "to_dask_array") and not isinstance(values.dtype, np.dtype):
        # pandas' nullable numbers (Int64, Float64): missing values as NaN,
        # which the checks then name, as in memory.
        try:
            values = values.astype("float64")
        except (TypeError, ValueError):
            pass  # refused below, naming the dtype
    values = _as_dask_array(values, f"The per-row cost {name!r}")
    if values.shape[0] != score.shape[0]:
        raise ValueError(
            f"The per-row cost {name!r} must be a 1-D array with one value per "
            f"sample ({score.shape[0]}); got shape {values.shape}."
        )
    if values.dtype.kind == "O":
        # Numbers held as objects are read as memory reads them, a partition
        # at a time; text is refused there.
        return values.map_blocks(_numbers_of, name, dtype=float)
    if values.dtype.kind not in "biuf":
        raise ValueError(
            f"The per-row cost {name!r} must hold numbers; got dtype {values.dtype}."
        )
    return values


def _numbers_of(block, name: str) -> np.ndarray:
    """A partition of a per-row cost held as objects, read as memory reads
    it (``cost_numbers``: text refused)."""
    return cost_numbers(name, np.asarray(block))
