"""What :class:`~threshold_estimators.plotting.ThresholdCurveDisplay` draws.

The curves come from the same code as the search (``confusion_curve``,
``run_search``, the objectives' ``score``), so a plot never disagrees with
the threshold the classifier or the CLI chose. No matplotlib here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._classifier import ThresholdTunedClassifier
from ._pick import pick_threshold
from ._scoring import resolve_objective
from ._search import as_float_array
from ._selection import evaluate
from ._validation import (
    check_metadata_read,
    check_row_metadata,
    check_target,
    check_weights,
    plain,
)
from .objectives._base import precision_recall

CURVES = ("objective", "precision", "recall")


def display_params(thresholds, counts, values, objective, **params) -> dict:
    """Constructor arguments of the display for a searched curve.

    ``counts`` are ``(tp, fp, tn, fn)``; ``params`` are passed through
    (``threshold``, ``pos_label``, ``name``, fold data).
    """
    objective_name, objective_score = objective_line(objective, values)
    target_metric, target = objective.target_line or (None, None)
    precision, recall = precision_recall(*counts)
    if "pos_label" in params:
        params["pos_label"] = plain(params["pos_label"])
    return {
        "thresholds": thresholds,
        "precision": precision,
        "recall": recall,
        "objective_score": objective_score,
        "objective_name": objective_name,
        "target": target,
        "target_metric": target_metric,
        **params,
    }


def estimator_params(estimator, X, y, sample_weight, name, metadata=None) -> dict:
    """Display arguments for a fitted ThresholdTunedClassifier."""
    if not isinstance(estimator, ThresholdTunedClassifier):
        raise TypeError(
            "from_estimator needs a fitted ThresholdTunedClassifier; got "
            f"{type(estimator).__name__}. For any other model, use "
            "from_predictions with its scores."
        )
    check_is_fitted(estimator)
    if estimator.pos_label_ is None:
        raise ValueError(
            "from_estimator draws the threshold of one class, but this classifier "
            "tunes every class of a multiclass target (pos_label=None); fit it "
            "with pos_label=k to tune and plot class k."
        )
    classes, pos_label = estimator.classes_, estimator.pos_label_
    # The objective the decision was fitted for: the parameter may have been
    # changed since (set_params), the fitted state has not.
    objective = estimator.objective_
    cv_results = getattr(estimator, "cv_results_", None)
    if X is None and y is None:
        if cv_results is None:
            raise ValueError(
                "from_estimator needs either the out-of-fold curves, stored when "
                "the classifier is fitted with store_cv_results=True, or held-out "
                "X and y to score with estimator_; got a classifier fitted with "
                "store_cv_results=False and no X, y."
            )
        thresholds = cv_results["thresholds"]
        counts = tuple(cv_results[key] for key in ("tp", "fp", "tn", "fn"))
        values = cv_results["objective"]
        folds = fold_curves(cv_results.get("fold_curves"), thresholds, objective)
    elif X is None or y is None:
        raise ValueError("from_estimator needs both X and y, or neither.")
    else:
        y = column_or_1d(y)
        check_consistent_length(X, y, sample_weight)
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(
                f"y holds labels the classifier does not know: "
                f"{unknown[:10].tolist()}; its classes_ are {classes.tolist()}. "
                "Pass the labels the classifier was fitted on."
            )
        if not np.any(y == pos_label):
            raise ValueError(
                f"y holds no sample of the tuned class {plain(pos_label)!r}, so recall "
                "is undefined at every threshold."
            )
        if sample_weight is not None:
            sample_weight = check_weights(sample_weight, X, y, np.unique(y))
        score, alternative = estimator.rule_.scores(estimator.estimator_, X)
        curve, values = objective_curve(
            objective,
            y,
            score,
            sample_weight,
            pos_label,
            classes,
            X,
            alternative,
            checked_metadata(metadata, y, objective),
        )
        thresholds, counts = curve.thresholds, curve.counts
        folds = None  # the folds' curves are of the training data, not of X
    return display_params(
        thresholds,
        counts,
        values,
        objective,
        threshold=estimator.threshold_,
        fold_thresholds=None if cv_results is None else cv_results["fold_thresholds"],
        fold_curves=folds,
        pos_label=pos_label,
        name=type(estimator.estimator_).__name__ if name is None else name,
    )


def predictions_params(
    y_true, y_score, objective, pos_label, sample_weight, threshold, name, metadata=None
) -> dict:
    """Display arguments for labels and scores from any system."""
    if not (
        threshold is None
        or (isinstance(threshold, str) and threshold == "auto")
        or (
            isinstance(threshold, Real)
            and not isinstance(threshold, (bool, np.bool_))
            and np.isfinite(threshold)
        )
    ):
        raise ValueError(
            'threshold must be "auto" (the optimum of the objective), a finite '
            f"number, or None (no line); got {threshold!r}."
        )
    y_true = column_or_1d(y_true)
    if np.ndim(y_score) != 1:
        raise ValueError(
            "y_score must be 1-D, one score of the positive class per sample (for "
            "predict_proba output, its positive column); got shape "
            f"{np.shape(y_score)}."
        )
    y_score = as_float_array(y_score, "y_score")
    check_consistent_length(y_true, y_score, sample_weight)
    if not np.all(np.isfinite(y_score)):
        raise ValueError(
            "y_score must be finite; got "
            f"{np.count_nonzero(~np.isfinite(y_score))} non-finite values."
        )
    classes, positive_index = check_target(y_true, pos_label, "from_predictions")
    if len(classes) != 2:
        raise ValueError(
            "from_predictions needs a binary target; y_true has "
            f"{len(classes)} classes: {classes.tolist()}."
        )
    pos_label = classes[positive_index]
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight, y_score, y_true, classes)
    if isinstance(threshold, str) and threshold == "auto":
        pick = pick_threshold(
            y_true,
            y_score,
            objective,
            sample_weight=sample_weight,
            pos_label=pos_label,
            **(checked_metadata(metadata, y_true) or {}),
        )
        curve, values = pick.curve, pick.objective_values
        objective, threshold = pick.objective, pick.threshold
    else:
        objective = resolve_objective(objective, None, positive_index)
        curve, values = objective_curve(
            objective,
            y_true,
            y_score,
            sample_weight,
            pos_label,
            classes,
            metadata=checked_metadata(metadata, y_true, objective),
        )
    return display_params(
        curve.thresholds,
        curve.counts,
        values,
        objective,
        threshold=threshold,
        pos_label=pos_label,
        name=name,
    )


def checked_metadata(metadata, y, objective=None):
    """Per-row metadata as a dict of arrays of ``y``'s length, or None; for a
    count objective, only the names it reads."""
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(
            "metadata must be a dict of per-row arrays, e.g. {'amount': amount}; "
            f"got {type(metadata).__name__}."
        )
    if not metadata:
        return None
    if objective is not None and not objective.reads_rows:
        check_metadata_read(objective, metadata, "The display")
    check_row_metadata(metadata, len(y))
    return dict(metadata)


def objective_curve(
    objective,
    y,
    score,
    sample_weight,
    pos_label,
    classes,
    X=None,
    alternative=None,
    metadata=None,
):
    """The confusion curve and the objective on it, without choosing a candidate.

    Unlike ``run_search``, an objective that no candidate satisfies does not
    raise: an infeasible target is worth seeing.
    """
    found = evaluate(
        objective,
        y,
        score,
        sample_weight,
        pos_label=pos_label,
        classes=classes,
        X=X,
        alternative=alternative,
        metadata=metadata,
    )
    return found.curve, found.values


def objective_line(objective, values):
    """Legend label and plotted values of the objective (None: not drawn)."""
    return objective.curve_label(values) or (None, None)


def fold_curves(raw, thresholds, objective):
    """Per-fold curves from ``cv_results_["fold_curves"]`` as a list of dicts.

    Accepted layouts: a sequence of per-fold mappings, each with its own
    ``"thresholds"`` (None for a fold without a feasible threshold, as
    ``ThresholdTunedClassifier`` stores them), or one mapping of per-fold rows
    (with a ``"thresholds"`` row per fold, or rows aligned with the pooled
    candidates). A fold's curves may be given as values or as its counts
    ``tp, fp, tn, fn``.
    """
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        rows = dict(raw)
        shared = rows.get("thresholds")
        n_folds = len(rows[next(key for key in rows if key != "thresholds")])
        if shared is None or (
            isinstance(shared, np.ndarray)
            and shared.ndim == 1
            and shared.dtype.kind == "f"
        ):
            rows["thresholds"] = [thresholds if shared is None else shared] * n_folds
        folds = [{key: row[i] for key, row in rows.items()} for i in range(n_folds)]
    elif isinstance(raw, Sequence) and all(
        fold is None or isinstance(fold, Mapping) for fold in raw
    ):
        # None stands for a fold without a feasible threshold: no curve.
        folds = [dict(fold) for fold in raw if fold is not None]
    else:
        raise ValueError(
            "cv_results_['fold_curves'] must be a list of per-fold dicts or a dict "
            f"of per-fold rows; got {type(raw).__name__}."
        )
    curves = []
    for fold in folds:
        if "thresholds" not in fold:
            raise ValueError(
                f"Each fold curve needs its 'thresholds'; got the keys {sorted(fold)}."
            )
        counts = [fold.get(key) for key in ("tp", "fp", "tn", "fn")]
        if all(count is not None for count in counts):
            counts = [np.asarray(count, dtype=float) for count in counts]
            precision, recall = precision_recall(*counts)
            fold.setdefault("precision", precision)
            fold.setdefault("recall", recall)
            if not objective.reads_rows:
                fold.setdefault("objective", objective.score(*counts))
        curve = {"thresholds": np.asarray(fold["thresholds"], dtype=float)}
        curve.update(
            {key: np.asarray(fold[key], dtype=float) for key in CURVES if key in fold}
        )
        if "objective" in curve:
            plotted = objective_line(objective, curve.pop("objective"))[1]
            if plotted is not None:
                curve["objective"] = plotted
        curves.append(curve)
    return curves or None


def values_at(fold_thresholds, fold_values, x):
    """A fold's curve at the cuts ``x``: the value of the decisions ``score >= x``.

    Those are the decisions of the fold candidate with the smallest threshold
    ``>= x``; above every fold candidate the value is undefined (NaN).
    """
    fold_thresholds = np.asarray(fold_thresholds, dtype=float)
    fold_values = np.asarray(fold_values, dtype=float)
    order = np.argsort(fold_thresholds, kind="stable")
    position = np.searchsorted(fold_thresholds[order], x, side="left")
    inside = position < order.size
    out = np.full(np.shape(x), np.nan)
    out[inside] = fold_values[order[position[inside]]]
    return out
