"""How the tuned threshold varies from fold to fold.

The threshold itself comes from the pooled out-of-fold counts. Searching each
fold's own rows as well shows how much it would move with other data: each
fold's best threshold, their spread (``threshold_std_``) and, on request, each
fold's whole curve.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils import _safe_indexing

from ._multiclass import per_class_thresholds
from ._selection import subset_metadata
from .objectives import InfeasibleTargetError
from .objectives._base import NoPreferenceError, precision_recall


def _fold_rows(oof):
    """Row indices (into the pooled out-of-fold arrays) of each fold."""
    return [np.flatnonzero(oof.fold == fold) for fold in np.unique(oof.fold)]


def _quietly(search, *args, **kwargs):
    """Run a search; a fold without a feasible threshold gives None."""
    try:
        with warnings.catch_warnings():
            # A fallback warning per fold would repeat the pooled one.
            warnings.simplefilter("ignore", UserWarning)
            return search(*args, **kwargs)
    except (InfeasibleTargetError, NoPreferenceError):
        # A fold may hold none of the rows whose costs differ (sparse per-row
        # costs): it has no threshold of its own, like an infeasible fold.
        return None


def _weightless(weight_oof, rows) -> bool:
    """A fold whose samples all have zero weight has nothing to search."""
    return weight_oof is not None and not np.any(weight_oof[rows] > 0)


def _subset(values, rows):
    return None if values is None else _safe_indexing(values, rows)


def fold_searches(
    search, objective, y_oof, oof, weight_oof, X_oof, metadata=None, *, keep_curves
):
    """Each fold's best threshold (NaN when it has none), and its curve.

    ``search`` is :func:`~threshold_estimators._best_cut.find_best` with
    ``objective`` bound. The curves (a dict per fold, None for an infeasible fold)
    are only kept when asked for.
    """
    thresholds, curves = [], []
    for rows in _fold_rows(oof):
        if _weightless(weight_oof, rows):
            thresholds.append(np.nan)
            curves.append(None)
            continue
        found = _quietly(
            search,
            y_oof[rows],
            oof.score[rows],
            _subset(weight_oof, rows),
            X=_subset(X_oof, rows),
            alternative=_subset(oof.alternative, rows),
            metadata=subset_metadata(metadata, rows),
        )
        if found is None:
            thresholds.append(np.nan)
            curves.append(None)
            continue
        thresholds.append(found.cut(objective, oof.dtype))
        if keep_curves:
            curves.append(curve_results(found))
    return np.asarray(thresholds), (curves if keep_curves else None)


def curve_results(found) -> dict:
    """A search's whole curve as ``cv_results_`` stores it: thresholds,
    objective, precision and recall of every candidate."""
    precision, recall = precision_recall(*found.curve.counts)
    return {
        "thresholds": found.curve.thresholds,
        "objective": found.values,
        "precision": precision,
        "recall": recall,
    }


def fold_class_thresholds(
    objective,
    y_oof,
    oof,
    weight_oof,
    classes,
    X_oof,
    metadata=None,
    *,
    pooled=None,
    odds_shifts=None,
):
    """Each fold's per-class thresholds, shape (n_folds, n_classes); NaN rows
    for folds where some class has no feasible threshold.

    A single fold is the pooled data: its thresholds are ``pooled``, the
    pooled search's, rather than a repeat of it.
    """
    if pooled is not None and np.all(oof.fold == oof.fold[0]):
        return np.array(pooled, dtype=float)[None, :]
    thresholds = []
    for rows in _fold_rows(oof):
        if _weightless(weight_oof, rows):
            thresholds.append(np.full(len(classes), np.nan))
            continue
        found = _quietly(
            per_class_thresholds,
            objective,
            y_oof[rows],
            oof.score[rows],
            _subset(weight_oof, rows),
            classes,
            _subset(X_oof, rows),
            oof.dtype,
            subset_metadata(metadata, rows),
            odds_shifts,
        )
        thresholds.append(np.full(len(classes), np.nan) if found is None else found[0])
    return np.asarray(thresholds)


def spread(fold_thresholds):
    """Standard deviation over the folds with a threshold; NaN under two."""
    fold_thresholds = np.asarray(fold_thresholds, dtype=float)
    finite = np.isfinite(fold_thresholds)
    count = finite.sum(axis=0)
    values = np.where(finite, fold_thresholds, 0.0)
    # Computed from sums, not np.nanstd, which warns on columns with no value.
    mean = values.sum(axis=0) / np.maximum(count, 1)
    squares = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0)
    std = np.sqrt(squares / np.maximum(count, 1))
    return np.where(count >= 2, std, np.nan)
