"""``pick_threshold`` on dask arrays: the checks of the in-memory entry point
on the cluster's columns, then the distributed search that fits the
objective (``_dask_search`` for count objectives, ``_dask_costs`` for per-row
costs)."""

from __future__ import annotations

import numpy as np

from ._best_cut import Found
from ._dask_costs import dask_least_cost
from ._dask_search import _as_dask_array, dask_best
from ._pick import ThresholdPick, _picked
from ._scoring import resolve_objective, tuned_class
from ._validation import check_metadata_read, check_target, plain
from .objectives._cost_entries import cost_numbers


class _NotGathered:
    """The whole curve of a distributed search, which is never gathered."""

    def __call__(self):
        raise ValueError(
            "pick_threshold on dask arrays gathers only the candidates that can "
            "win, not the whole curve (curve, objective_values, index); compute "
            "the arrays and pick in memory to get it."
        )


def pick_on_dask(
    y_true, y_score, objective, sample_weight, pos_label, prevalence, metadata
) -> ThresholdPick:
    """:func:`~threshold_estimators.pick_threshold` on dask arrays: binary
    targets, count objectives that rise with the true positives and fall
    with the false ones (``_dask_search``) and per-row costs
    (``_dask_costs``)."""
    import dask

    # dask fails to fuse the array of a one-partition dask series with a
    # reduction of it ("Cannot fuse tasks with multiple outputs", dask
    # 2026.8): the passes, whose per-partition work is one task each, gain
    # nothing from fusing anyway.
    with dask.config.set({"optimization.fuse.active": False}):
        return _pick_on_dask(
            y_true, y_score, objective, sample_weight, pos_label, prevalence, metadata
        )


def _pick_on_dask(
    y_true, y_score, objective, sample_weight, pos_label, prevalence, metadata
) -> ThresholdPick:
    import dask.array as da

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
    check_metadata_read(resolved, metadata, "pick_threshold")
    if resolved.sums_are_costs and resolved.metadata_names:
        resolved.check_given(metadata)
        metadata = {name: _per_row_dask(name, v, score) for name, v in metadata.items()}
        found = dask_least_cost(
            resolved, y, score, sample_weight, metadata, labels=labels
        )
        return _dask_picked(resolved, score, pos_label, found)
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
            "PrecisionTarget and RecallTarget (with confidence: unweighted, and "
            "for PrecisionTarget the selection='pointwise' rule, not the sharp "
            "or fixed sequence, which judge a cut by the cuts above it) and a "
            "binary CostMatrix (fixed or per-row costs); got "
            f"{resolved!r}. Pass selection='pointwise' or compute the arrays to "
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
