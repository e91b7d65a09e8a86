"""Checks of what ``fit`` receives and of what the folds return."""

import warnings
from numbers import Number

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, column_or_1d


def check_target(y, pos_label, owner: str = "ThresholdTunedClassifier"):
    """The classes of ``y`` and the index of the class to tune.

    A binary target tunes ``pos_label``; ``None`` means ``classes[1]``, with a
    warning unless the labels are 0/1, -1/1 or booleans, where that choice is
    the convention. On a multiclass target ``pos_label`` is tuned against the
    rest, and ``None`` tunes every class (the index returned is then None).
    """
    classes, index, _ = check_target_counts(y, pos_label, owner, stacklevel=4)
    return classes, index


def check_target_counts(
    y, pos_label, owner: str = "ThresholdTunedClassifier", *, stacklevel: int = 3
):
    """:func:`check_target`'s classes and index, and each class's number of
    rows (counted with the classes: no other pass over the labels)."""
    if len(y) == 0:
        raise ValueError(
            f"{owner} needs samples of two classes to place a threshold between; "
            "got 0 samples."
        )
    _check_one_label_type(y)
    classes, counts = unique_labels(y, return_counts=True)
    # The kind of a 1-D target is the kind of its distinct values: checked on
    # those (a few) rather than three passes over every label.
    check_classification_targets(classes)
    y_type = type_of_target(classes, input_name="y")
    if y_type == "multiclass" and pos_label is None:
        return classes, None, counts
    if classes.size < 2:
        raise ValueError(
            f"{owner} needs two classes to place a threshold between; y has 1 "
            f"class: {[plain(c) for c in classes]}."
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
        return classes, int(np.flatnonzero(classes == pos_label)[0]), counts
    if not (set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}):
        warnings.warn(
            f"pos_label=None: tuning the decision for class {plain(classes[1])!r} "
            f"(classes_[1]) of {classes.tolist()}. Pass pos_label to choose "
            "the class explicitly and silence this warning.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return classes, 1, counts


def check_row_metadata(metadata: dict | None, n_samples: int) -> None:
    """Per-row metadata (per-row costs, a scorer's routed parameters) must hold
    one value per sample: they are sliced with the rows of each fold."""
    for name, values in (metadata or {}).items():
        if name == "sample_weight" or values is None:
            continue  # checked as weights
        shape = np.shape(values)
        if shape[:1] != (n_samples,):
            raise ValueError(
                f"The per-row metadata {name!r} must hold one value per sample "
                f"({n_samples}), as it is split with the rows; got "
                f"{'a scalar' if not shape else f'shape {shape}'}."
            )


def check_metadata_read(objective, metadata: dict, owner: str) -> None:
    """Metadata a count objective does not read are refused, not dropped: a
    misspelt per-row cost must not silently leave its column unused."""
    unread = sorted(set(metadata) - set(objective.metadata_names))
    if unread:
        raise TypeError(
            f"{owner} got metadata {unread}, which the objective "
            f"{objective.display_name!r} does not read (it reads "
            f"{list(objective.metadata_names) or 'none'})."
        )


def unique_labels(y: np.ndarray, *, return_counts: bool = False):
    """``np.unique(y)`` (with ``return_counts``, also each label's number of
    rows), counted rather than sorted for integer and boolean labels in a
    compact range (the common case, and the cost of a sort of every label
    otherwise)."""
    y = np.asarray(y)
    if y.dtype.kind == "b":
        if return_counts:
            true = int(np.count_nonzero(y))
            counts = np.array([y.size - true, true])
            return np.array([False, True])[counts > 0], counts[counts > 0]
        # Two scans that stop at the first row of each class.
        present = [y.size > 0 and not y.all(), bool(y.any())]
        return np.array([False, True])[present]
    if y.dtype.kind in "iu" and y.size:
        low, high = int(y.min()), int(y.max())
        if high - low == 1:
            # Two labels (binary targets): one count, no table of bins.
            n_high = int(np.count_nonzero(y if low == 0 else y == high))
            labels = np.array([low, high], dtype=y.dtype)
            counts = np.array([y.size - n_high, n_high])
            return (labels, counts) if return_counts else labels
        bins = max(1024, y.size)
        if high - low < bins:
            # Small non-negative labels are their own bins: no shifted copy.
            own = 0 <= low and high < bins
            offset = y if own else y.astype(np.int64) - low
            counts = np.bincount(offset)
            present = np.flatnonzero(counts)
            labels = (present if own else present + low).astype(y.dtype)
            return (labels, counts[present]) if return_counts else labels
    return np.unique(y, return_counts=return_counts)


def class_index(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each label's index in ``classes`` (sorted, holding every label of
    ``y``). Integer labels that are consecutive integers index themselves,
    shifted; others are looked up by binary search."""
    y = np.asarray(y)
    if y.dtype.kind in "biu" and classes.dtype.kind in "biu" and classes.size:
        low = int(classes[0])
        if int(classes[-1]) - low == classes.size - 1:
            if low == 0:
                return y.view(np.uint8) if y.dtype.kind == "b" else y
            return y.astype(np.int64) - low
    return np.searchsorted(classes, y)


def check_target_shape(y):
    """``y`` as a 1-D array, or an error naming the kind of target it is."""
    y = np.asarray(y) if not hasattr(y, "shape") else y
    if y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(
            "Only binary and multiclass targets are supported (one label per "
            f"sample); got a {type_of_target(y, input_name='y')!r} target of shape "
            f"{y.shape}. Tune one column at a time."
        )
    return column_or_1d(y, warn=True)


def _check_one_label_type(y):
    """Labels of several Python types (e.g. 1 and "1") cannot be ordered."""
    if np.asarray(y).dtype != object:
        return
    kinds = {_label_kind(label) for label in y}
    if len(kinds) > 1:
        raise ValueError(
            "y mixes labels of different types "
            f"({', '.join(sorted(kinds))}), which have no order; use labels of one "
            "type, e.g. y.astype(str)."
        )


def _label_kind(label) -> str:
    """Labels of one kind can be ordered together (str with numpy's str_, ...)."""
    if isinstance(label, (str, np.str_)):
        return "str"
    if isinstance(label, (bytes, np.bytes_)):
        return "bytes"
    if isinstance(label, (Number, np.number, np.bool_)):
        return "number"
    return type(label).__name__


def check_weight_values(sample_weight: np.ndarray) -> None:
    """Weights must be finite and non-negative, and their sum finite."""
    if not sample_weight.size:
        return
    # Two reductions in the common case: NaN fails the comparison, and an
    # infinite weight makes the sum infinite (told apart from an overflow).
    with np.errstate(over="ignore", invalid="ignore"):
        total = sample_weight.sum()
    if not np.min(sample_weight) >= 0 or (
        not np.isfinite(total) and not np.max(sample_weight) < np.inf
    ):
        raise ValueError(
            "sample_weight must be finite and non-negative; got "
            f"min={float(np.min(sample_weight))}, "
            f"max={float(np.max(sample_weight))} "
            f"({np.count_nonzero(np.isnan(sample_weight))} NaN, "
            f"{np.count_nonzero(np.isinf(sample_weight))} infinite and "
            f"{np.count_nonzero(sample_weight < 0)} negative values)."
        )
    if not np.isfinite(total):
        raise ValueError(
            "sample_weight sums to infinity in float64 (max "
            f"{float(np.max(sample_weight)):g}); divide it by a constant, e.g. its "
            "maximum: the threshold depends only on the ratios of the weights."
        )


def check_weights(sample_weight, X, y, classes):
    """Validated ``sample_weight``: finite, non-negative, positive in each class."""
    return checked_weights_and_totals(sample_weight, X, y, classes)[0]


def checked_weights_and_totals(sample_weight, X, y, classes):
    """``check_weights``' weights, and each class's total weight (what the
    check sums), for a caller that needs both."""
    sample_weight = _check_sample_weight(sample_weight, X)
    check_weight_values(sample_weight)
    index = class_index(y, classes)
    totals = np.bincount(index, weights=sample_weight, minlength=len(classes))
    for label, total in zip(classes, totals, strict=True):
        if not total > 0:
            raise ValueError(
                "Each class needs a positive total sample_weight; class "
                f"{plain(label)!r} has total weight {total}."
            )
    return sample_weight, totals


def check_fold_scores(fold_scores, response_method):
    """The pooled out-of-fold scores, after checks that they can be thresholded.

    Non-finite scores, or scores constant within every fold, raise; a single
    constant fold warns.
    """
    # Real numbers (``response`` checked the dtype), compared in float64.
    fold_scores = [np.asarray(s, dtype=np.float64) for s in fold_scores]
    scores = np.concatenate(fold_scores)
    # Each fold's range, read once: NaN or an infinity shows in its ends.
    ends = [(s.min(), s.max()) if len(s) else (0.0, 0.0) for s in fold_scores]
    if not np.all(np.isfinite(ends)):
        raise ValueError(
            f"The estimator's {response_method} returned non-finite "
            f"scores: {np.isnan(scores).sum()} NaN and {np.isinf(scores).sum()} "
            "infinite values; the decision threshold needs finite scores."
        )
    # A fold of one sample is constant by nature (LeaveOneOut): judge the
    # pooled scores when no fold has two.
    constant = [low == high for low, high in ends]
    sized = [c for s, c in zip(fold_scores, constant, strict=True) if len(s) > 1]
    if all(sized or [np.ptp(scores) == 0]):
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


def check_both_classes_scored(labels_oof, weight_oof, classes):
    """The pooled out-of-fold rows must hold both classes (with positive
    weight); ``labels_oof`` are the rows' indices into ``classes``."""
    totals = np.bincount(labels_oof, weights=weight_oof, minlength=len(classes))
    for label, total in zip(classes, totals, strict=True):
        if not total > 0:
            raise ValueError(
                f"The validation folds of cv hold no sample of class {plain(label)!r} "
                f"(out of {len(labels_oof)} out-of-fold rows), so no threshold can be "
                "tuned on them; use a cv whose test folds cover every class, "
                "e.g. an int (stratified folds)."
            )


def check_split_pairs(cv) -> list:
    """An iterable ``cv`` as a list of ``(train, test)`` pairs, or a clear error."""
    splits = list(cv)
    for number, split in enumerate(splits):
        _as_pair(split, number)
    return splits


def _as_pair(split, number: int):
    """``split`` as ``(train, test)``, or an error saying what it is instead."""
    if isinstance(split, (str, bytes)) or getattr(split, "__len__", None) is None:
        size = None
    else:
        size = len(split)
    if size != 2:
        what = f"of {size} items" if size is not None else "not a sequence"
        raise ValueError(
            "cv must yield (train, test) pairs of index arrays; split "
            f"{number} is a {type(split).__name__} {what}."
        )
    return split


def check_splits(splits, y, classes):
    """The ``(train, test)`` index arrays of ``cv``, checked, as integer indices.

    Boolean masks of length ``n_samples`` become the indices they select.
    Indices must be integers in ``[0, n_samples)``, every set non-empty, and
    every training set must hold each class: a fold model that never saw a
    class cannot score it.
    """
    n_samples = len(y)
    checked = []
    for number, split in enumerate(splits):
        train, test = _as_pair(split, number)
        train = _split_indices(train, n_samples, f"split {number}'s train set")
        test = _split_indices(test, n_samples, f"split {number}'s test set")
        missing = [plain(c) for c in classes if not np.any(y[train] == c)]
        if missing:
            counts = {plain(c): int(np.count_nonzero(y == c)) for c in missing}
            hint = (
                "a class needs at least two samples, one to train on and one to "
                "score, in every split: drop or merge it"
                if min(counts.values()) < 2
                else "use fewer folds, or a cv whose training sets hold every class"
            )
            raise ValueError(
                f"cv split {number} trains on no sample of class(es) {missing} "
                f"(samples in y: {counts}), so the model fitted on it cannot score "
                f"them; {hint}."
            )
        checked.append((train, test))
    return checked


def _split_indices(indices, n_samples: int, name: str) -> np.ndarray:
    indices = np.asarray(indices)
    if indices.dtype == bool:
        if indices.shape != (n_samples,):
            raise ValueError(
                f"cv {name} is a boolean mask of shape {indices.shape}; a mask "
                f"needs one entry per sample, ({n_samples},)."
            )
        indices = np.flatnonzero(indices)
    if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
        raise ValueError(
            f"cv {name} must be a 1-D array of integer indices (or a boolean "
            f"mask); got dtype {indices.dtype} and shape {indices.shape}."
        )
    if indices.size == 0:
        raise ValueError(f"cv {name} is empty; every set needs at least one sample.")
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= n_samples:
        raise ValueError(
            f"cv {name} holds indices from {low} to {high}; they must lie in "
            f"[0, {n_samples}), the rows of X."
        )
    return indices.astype(np.intp, copy=False)
