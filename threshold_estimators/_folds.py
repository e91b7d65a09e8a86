"""Fitting the folds: out-of-fold scores of the class to tune, and the final model."""

import sys
import time
from functools import partial
from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils import _safe_indexing
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_method_params,
    _num_samples,
    check_is_fitted,
)

from ._multiclass import best_other
from ._validation import check_fold_scores, plain


class OutOfFold(NamedTuple):
    """Pooled out-of-fold scores and the model that will predict."""

    # The row of X of each score (a row may repeat or be absent); None: every
    # row once, in order (prefit), which needs no array of 10^6 positions.
    index: np.ndarray | None
    score: np.ndarray
    alternative: np.ndarray | None  # multiclass: the best other class of each row
    fold: np.ndarray  # the fold each score comes from
    estimator: object  # the refitted, single-split or prefit model
    # The estimator's own score dtype (the scores above are float64): the cut
    # is placed on a value of this type, which predict compares it in.
    dtype: np.dtype = np.dtype(np.float64)


def negated(scores: np.ndarray) -> np.ndarray:
    """``-scores`` in a type that holds it: unsigned integers would wrap around,
    so they become signed integers, or floats for 64 bits."""
    scores = np.asarray(scores)
    if scores.dtype.kind == "u":
        scores = scores.astype(np.int64 if scores.dtype.itemsize < 8 else np.float64)
    return -scores


def in_sorted_order(output, classes):
    """An estimator's per-class ``output`` with its columns in sorted class order.

    scikit-learn estimators keep ``classes_`` sorted, but any estimator may
    report another order (e.g. ``[1, 0]``) with its columns in that order. The
    columns are then permuted; a 1-D (or one-column) binary output, which
    scores ``classes[1]``, changes sign when that is not the greater class.
    """
    classes = np.asarray(classes)
    order = np.argsort(classes, kind="stable")
    if np.array_equal(order, np.arange(classes.size)):
        return output
    output = np.asarray(output)
    if classes.size == 2 and (output.ndim == 1 or output.shape[1] == 1):
        return negated(output)
    if output.ndim == 2 and output.shape[1] == classes.size:
        return output[:, order]
    return output


def check_model_classes(estimator, classes) -> None:
    """A fitted model must know exactly the classes of ``y``, whatever its order.

    A model that knows other classes (a prefit model trained on more classes,
    labels of another type such as ``"1"`` for ``1``) would call rows a class
    that ``y`` does not have, or never call one it has.
    """
    known = getattr(estimator, "classes_", None)
    if known is None:
        raise ValueError(
            f"The fitted {type(estimator).__name__} has no classes_ attribute; a "
            "threshold needs to know which score column belongs to which class."
        )
    if not np.array_equal(np.sort(np.asarray(known)), np.asarray(classes)):
        raise ValueError(
            f"The fitted {type(estimator).__name__} knows the classes "
            f"{[plain(c) for c in known][:10]}, but y holds "
            f"{[plain(c) for c in classes][:10]}: the threshold is tuned on the "
            "classes the model scores, so they must be the same (labels of the "
            "same type; with cv='prefit', tune on labels of the classes the model "
            "was trained on)."
        )


def check_ovo(estimator, response_method: str, n_classes: int) -> None:
    """A one-vs-one ``decision_function`` has no column per class: refused at
    ``fit`` (once, rather than reading the parameters at every prediction)."""
    if response_method != "decision_function" or n_classes <= 2:
        return
    if isinstance(estimator, FrozenEstimator):
        # It shows only its ``estimator`` parameter: look inside.
        estimator = estimator.estimator
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    if any(
        name.endswith("decision_function_shape") and value == "ovo"
        for name, value in params.items()
    ):
        raise ValueError(
            "A one-vs-one decision_function (decision_function_shape='ovo') has "
            "no column per class; use decision_function_shape='ovr' or "
            "predict_proba."
        )


def response(estimator, X, response_method: str, pos_label):
    """The raw output of ``response_method`` and the column of ``pos_label``.

    Columns are in sorted class order (:func:`in_sorted_order`), whatever the
    estimator's own. ``pos_label=None`` (every class of a multiclass target) has
    no column.
    """
    classes = np.sort(estimator.classes_)
    if pos_label is not None and pos_label not in classes:
        raise ValueError(
            f"The fitted {type(estimator).__name__} knows the classes "
            f"{classes.tolist()}, which lack the class to tune, "
            f"{plain(pos_label)!r}; every training fold needs samples of each class."
        )
    raw = np.asarray(getattr(estimator, response_method)(X))
    if raw.ndim == 0 or raw.shape[0] != _num_samples(X):
        raise ValueError(
            f"{type(estimator).__name__}.{response_method} returned "
            f"{'a scalar' if raw.ndim == 0 else f'{raw.shape[0]} rows'} for "
            f"{_num_samples(X)} samples; it must return one row per sample."
        )
    if raw.dtype.kind not in "iuf":
        raise ValueError(
            f"{type(estimator).__name__}.{response_method} returned scores of dtype "
            f"{raw.dtype}; a threshold needs real numbers (integers or floats)."
        )
    raw = in_sorted_order(raw, estimator.classes_)
    one_score = len(classes) == 2 and (raw.ndim == 1 or raw.shape[1:] == (1,))
    if not one_score and (raw.ndim != 2 or raw.shape[1] != len(classes)):
        raise ValueError(
            f"{type(estimator).__name__}.{response_method} returned shape "
            f"{raw.shape} for the {len(classes)} classes it knows "
            f"({classes.tolist()[:10]}); the threshold needs one column per class"
            f"{' (or one score, for two classes)' if len(classes) == 2 else ''}"
            f"{'' if len(classes) == 2 else ', e.g. decision_function_shape=ovr'}."
        )
    if pos_label is None:
        return raw, None
    return raw, int(np.flatnonzero(classes == pos_label)[0])


def positive_score(estimator, X, response_method: str, pos_label, classes=None):
    """Score of ``pos_label`` (greater means more positive), and for a multiclass
    model the best other class of each row (None for a binary model).

    With ``pos_label=None`` on a multiclass model: every class's score column;
    the model must then know exactly ``classes``, the classes of the target.
    """
    if classes is not None:
        check_model_classes(estimator, classes)
    raw, column = response(estimator, X, response_method, pos_label)
    return oriented_score(raw, column, np.sort(estimator.classes_))


def oriented_score(raw, column, classes):
    """``positive_score`` from the raw output already computed by ``response``."""
    if column is None:
        return raw, None
    if raw.ndim == 1:  # a binary decision_function scores classes_[1]
        return (raw if column == 1 else negated(raw)), None
    if raw.shape[1] == 1:
        return (raw[:, 0] if column == 1 else negated(raw[:, 0])), None
    if raw.shape[1] == 2:
        return raw[:, column], None
    return raw[:, column], best_other(raw, column, classes)


def _fit_and_score(estimator, X, y, fit_params, train, test, score, return_estimator):
    """Fit ``estimator`` on ``train`` and ``score`` it on ``test``.

    ``score(estimator, X_test)`` is :func:`positive_score` with the arguments the
    folds share (response method, class to tune, classes of the target).
    """
    fold_fit_params = _check_method_params(X, fit_params, indices=train)
    estimator.fit(_safe_indexing(X, train), _safe_indexing(y, train), **fold_fit_params)
    scores, alternative = score(estimator, _safe_indexing(X, test))
    return scores, alternative, (estimator if return_estimator else None)


def report(message: str) -> None:
    """One progress line of ``fit(verbose>=1)`` on stderr, flushed at once.

    stderr, unlike scikit-learn's search estimators (stdout): progress is a
    diagnostic, and stdout is often data (the command line's ``--json``, a
    script's CSV). ``sys.stderr`` is looked up at each call, so that
    redirections (pytest's ``capsys``, ``contextlib.redirect_stderr``) see it.
    """
    print(f"[ThresholdTunedClassifier] {message}", file=sys.stderr, flush=True)


def seconds_text(seconds: float) -> str:
    """A duration for :func:`report`, as scikit-learn's searches show it."""
    return f"{seconds:.2f} s"


def _timed(index, function, *args, **kwargs):
    """``(index, function(*args, **kwargs), seconds)``: a job tagged with its
    place, so that results arriving in any order can be put back in order."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return index, result, time.perf_counter() - start


def _run_reporting(jobs, n_jobs, describe):
    """The results of ``jobs`` (each a ``delayed(_timed)(index, ...)``) in
    index order, each reported by ``describe(index, result, seconds)`` as it
    finishes.

    joblib's ``return_as="generator_unordered"`` hands each result back to
    this process as soon as its job finishes, whatever the backend's workers
    (threads, loky processes, a dask cluster); printing here, not in the
    workers, is what reaches this process's stderr. Backends that cannot
    return results as they come (``multiprocessing``, ray's) and joblib
    before 1.4 refuse that at construction: their jobs are reported once the
    whole batch has finished, still in fold order.
    """
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    except (TypeError, ValueError):  # see the docstring
        parallel = Parallel(n_jobs=n_jobs)
    results = [None] * len(jobs)
    for index, result, seconds in parallel(jobs):
        report(describe(index, result, seconds))
        results[index] = result
    return results


def prefit_scores(
    estimator, X, response_method, pos_label, classes, *, verbose=0
) -> OutOfFold:
    """Scores of an already fitted ``estimator`` on all of ``X`` (``cv="prefit"``)."""
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise NotFittedError(
            "cv='prefit' needs an already fitted estimator; got an unfitted "
            f"{type(estimator).__name__}. Fit it first, or pass an int cv to fit "
            "it on each fold."
        ) from exc
    start = time.perf_counter()
    scores, alternative = positive_score(
        estimator, X, response_method, pos_label, classes
    )
    if verbose:
        report(
            f"prefit {type(estimator).__name__} scored {_num_samples(X)} rows in "
            f"{seconds_text(time.perf_counter() - start)} (no fold fitted)"
        )
    dtype = np.asarray(scores).dtype
    scores = check_fold_scores([scores], response_method)
    fold = np.zeros(len(scores), dtype=np.uint8)  # one fold: all rows
    return OutOfFold(None, scores, alternative, fold, estimator, dtype)


def cross_fitted_scores(
    estimator,
    X,
    y,
    *,
    splits,
    refit,
    fit_params,
    response_method,
    pos_label,
    classes,
    n_jobs,
    verbose=0,
) -> OutOfFold:
    """Fit a clone per split and pool the scores of the test folds.

    With ``refit``, the final fit on all the data runs in the same parallel
    batch as the folds: it does not depend on the threshold. With ``verbose``,
    each fit is reported on stderr as it finishes (:func:`report`); the
    results are the same, put back in fold order.
    """
    if not splits:
        raise ValueError("cv produced no train/test split.")
    if not refit and len(splits) > 1:
        raise ValueError(
            "refit=False keeps the model of the single training split, but cv "
            f"has {len(splits)} splits; use refit=True or a cv with one split."
        )
    score = partial(
        positive_score,
        response_method=response_method,
        pos_label=pos_label,
        classes=classes,
    )
    # (function, args, kwargs) of each fit: the folds', then the refit.
    calls = [
        (
            _fit_and_score,
            (clone(estimator), X, y, fit_params, train, test, score, not refit),
            {},
        )
        for train, test in splits
    ]
    if refit:
        calls.append((clone(estimator).fit, (X, y), fit_params))
    if verbose:
        results = _fit_reporting(calls, splits, refit, n_jobs, _num_samples(X))
    else:
        # The default path is joblib's plain list, as before ``verbose``.
        results = Parallel(n_jobs=n_jobs)(
            delayed(function)(*args, **kwargs) for function, args, kwargs in calls
        )
    final = results.pop() if refit else results[0][2]
    test_sets = [test for _, test in splits]
    scores = check_fold_scores([result[0] for result in results], response_method)
    alternative = None
    if results[0][1] is not None:
        alternative = np.concatenate([result[1] for result in results])
    index = np.concatenate(test_sets)
    fold = np.repeat(np.arange(len(splits)), [len(t) for t in test_sets])
    dtype = np.result_type(*(np.asarray(result[0]).dtype for result in results))
    return OutOfFold(index, scores, alternative, fold, final, dtype)


def _fit_reporting(calls, splits, refit, n_jobs, n_rows):
    """The results of ``calls`` (each ``(function, args, kwargs)``: the folds'
    fits, then the refit), each fit reported as it finishes
    (:func:`_run_reporting`)."""
    n_folds = len(splits)
    what = f"{n_folds} fold{'s' * (n_folds > 1)}" + " and the refit" * refit
    report(f"fitting {what} on {n_rows} rows (n_jobs={n_jobs})")

    def describe(index, result, seconds):
        if index == n_folds:
            return f"refit on all {n_rows} rows in {seconds_text(seconds)}"
        train, test = splits[index]
        return (
            f"fold {index + 1}/{n_folds} fitted in {seconds_text(seconds)} "
            f"({len(train)} training rows, {len(test)} scored)"
        )

    # Wrapped by ``delayed`` once, around the timing: scikit-learn's
    # ``delayed`` carries its configuration to the workers only for the
    # function it wraps itself.
    jobs = [
        delayed(_timed)(index, function, *args, **kwargs)
        for index, (function, args, kwargs) in enumerate(calls)
    ]
    return _run_reporting(jobs, n_jobs, describe)
