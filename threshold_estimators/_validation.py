"""Checks of what ``fit`` receives and of what the folds return."""

import warnings

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight


def check_target(y, pos_label):
    """The classes of ``y`` and the index of the class to tune.

    A binary target tunes ``pos_label``; ``None`` means ``classes[1]``, with a
    warning unless the labels are 0/1, -1/1 or booleans, where that choice is
    the convention. On a multiclass target ``pos_label`` is tuned against the
    rest, and ``None`` tunes every class (the index returned is then None).
    """
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y")
    classes = np.unique(y)
    if y_type == "multiclass" and pos_label is None:
        return classes, None
    if classes.size < 2:
        raise ValueError(
            "ThresholdTunedClassifier needs two classes to place a threshold "
            f"between; y has 1 class: {classes.tolist()}."
        )
    if y_type not in ("binary", "multiclass"):
        raise ValueError(
            "Only binary and multiclass targets are supported; got a "
            f"{y_type!r} target."
        )
    if pos_label is not None:
        if pos_label not in classes.tolist():
            raise ValueError(
                f"pos_label={pos_label!r} is not a class of y; the classes "
                f"are {classes.tolist()}."
            )
        return classes, int(np.flatnonzero(classes == pos_label)[0])
    if not (set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}):
        warnings.warn(
            f"pos_label=None: tuning the decision for class {plain(classes[1])!r} "
            f"(classes_[1]) of {classes.tolist()}. Pass pos_label to choose "
            "the class explicitly and silence this warning.",
            UserWarning,
            stacklevel=3,
        )
    return classes, 1


def check_weights(sample_weight, X, y, classes):
    """Validated ``sample_weight``: finite, non-negative, positive in each class."""
    sample_weight = _check_sample_weight(sample_weight, X)
    if np.any(sample_weight < 0) or not np.all(np.isfinite(sample_weight)):
        raise ValueError(
            "sample_weight must be finite and non-negative; got "
            f"min={float(np.min(sample_weight))}, "
            f"max={float(np.max(sample_weight))}."
        )
    for label in classes:
        if not sample_weight[y == label].sum() > 0:
            raise ValueError(
                "Each class needs a positive total sample_weight; class "
                f"{plain(label)!r} has total weight {sample_weight[y == label].sum()}."
            )
    return sample_weight


def check_fold_scores(fold_scores, response_method):
    """The pooled out-of-fold scores, after checks that they can be thresholded.

    Non-finite scores, or scores constant within every fold, raise; a single
    constant fold warns.
    """
    scores = np.concatenate([np.asarray(s, dtype=float) for s in fold_scores])
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            f"The estimator's {response_method} returned non-finite "
            f"scores: {np.isnan(scores).sum()} NaN and {np.isinf(scores).sum()} "
            "infinite values; the decision threshold needs finite scores."
        )
    # A fold of one sample is constant by nature (LeaveOneOut): judge the
    # pooled scores when no fold has two.
    sized = [s for s in fold_scores if len(s) > 1] or [scores]
    constant = [np.ptp(s) == 0 for s in fold_scores]
    if all(np.ptp(s) == 0 for s in sized):
        raise ValueError(
            f"The estimator's {response_method} gives every sample "
            "the same score within each validation fold, so there is nothing "
            "for a threshold to rank; check that the estimator learns from "
            "the features."
        )
    for fold, (s, is_constant) in enumerate(zip(fold_scores, constant, strict=True)):
        if is_constant and len(s) > 1:
            warnings.warn(
                f"Fold {fold} scores its {len(s)} validation samples all "
                f"equal ({np.ravel(s)[0]:g}); they enter the threshold search as one "
                "block, so the tuned threshold leans on the other folds.",
                UserWarning,
                stacklevel=4,
            )
    return scores


def plain(value):
    """A numpy scalar as the Python value it holds, for readable messages."""
    return value.item() if isinstance(value, np.generic) else value


def check_both_classes_scored(y_oof, weight_oof, classes):
    """The pooled out-of-fold rows must hold both classes (with positive weight)."""
    for label in classes:
        in_class = y_oof == label
        total = in_class.sum() if weight_oof is None else weight_oof[in_class].sum()
        if not total > 0:
            raise ValueError(
                f"The validation folds of cv hold no sample of class {plain(label)!r} "
                f"(out of {len(y_oof)} out-of-fold rows), so no threshold can be "
                "tuned on them; use a cv whose test folds cover every class, "
                "e.g. an int (stratified folds)."
            )
