"""Fitting the folds: out-of-fold scores of the class to tune, and the final model."""

from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import _safe_indexing
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_method_params, check_is_fitted

from ._multiclass import best_other
from ._validation import check_fold_scores, plain


class OutOfFold(NamedTuple):
    """Pooled out-of-fold scores and the model that will predict."""

    index: np.ndarray  # the row of X of each score (a row may repeat or be absent)
    score: np.ndarray
    alternative: np.ndarray | None  # multiclass: the best other class of each row
    fold: np.ndarray  # the fold each score comes from
    estimator: object  # the refitted, single-split or prefit model


def response(estimator, X, response_method: str, pos_label):
    """The raw output of ``response_method`` and the column of ``pos_label``.

    ``pos_label=None`` (every class of a multiclass target) has no column.
    """
    classes = estimator.classes_
    if pos_label is not None and pos_label not in classes:
        raise ValueError(
            f"The fitted {type(estimator).__name__} knows the classes "
            f"{classes.tolist()}, which lack the class to tune, "
            f"{plain(pos_label)!r}; every training fold needs samples of each class."
        )
    params = {}
    if len(classes) > 2 and hasattr(estimator, "get_params"):
        params = estimator.get_params(deep=True)
    if response_method == "decision_function" and any(
        name.endswith("decision_function_shape") and value == "ovo"
        for name, value in params.items()
    ):
        raise ValueError(
            "A one-vs-one decision_function (decision_function_shape='ovo') has "
            "no column per class; use decision_function_shape='ovr' or "
            "predict_proba."
        )
    raw = np.asarray(getattr(estimator, response_method)(X))
    if len(classes) > 2 and (raw.ndim != 2 or raw.shape[1] != len(classes)):
        raise ValueError(
            f"{type(estimator).__name__}.{response_method} returned shape "
            f"{raw.shape} for {len(classes)} classes; multiclass tuning needs one "
            "column per class (e.g. decision_function_shape='ovr')."
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
    if pos_label is None and not np.array_equal(estimator.classes_, classes):
        raise ValueError(
            f"Tuning every class needs a model that knows the classes of y, "
            f"{np.asarray(classes).tolist()}; the fitted "
            f"{type(estimator).__name__} knows {estimator.classes_.tolist()} "
            "(every training fold needs samples of each class)."
        )
    raw, column = response(estimator, X, response_method, pos_label)
    return oriented_score(raw, column, estimator.classes_)


def oriented_score(raw, column, classes):
    """``positive_score`` from the raw output already computed by ``response``."""
    if column is None:
        return raw, None
    if raw.ndim == 1:  # a binary decision_function scores classes_[1]
        return (raw if column == 1 else -raw), None
    if raw.shape[1] == 1:
        return raw[:, 0] * (2 * column - 1), None
    if raw.shape[1] == 2:
        return raw[:, column], None
    return raw[:, column], best_other(raw, column, classes)


def _fit_and_score(
    estimator,
    X,
    y,
    fit_params,
    train,
    test,
    response_method,
    pos_label,
    classes,
    return_estimator,
):
    """Fit ``estimator`` on ``train`` and score ``test``."""
    fold_fit_params = _check_method_params(X, fit_params, indices=train)
    estimator.fit(_safe_indexing(X, train), _safe_indexing(y, train), **fold_fit_params)
    scores, alternative = positive_score(
        estimator, _safe_indexing(X, test), response_method, pos_label, classes
    )
    return scores, alternative, (estimator if return_estimator else None)


def prefit_scores(estimator, X, response_method, pos_label, classes) -> OutOfFold:
    """Scores of an already fitted ``estimator`` on all of ``X`` (``cv="prefit"``)."""
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise NotFittedError(
            "cv='prefit' needs an already fitted estimator; got an unfitted "
            f"{type(estimator).__name__}. Fit it first, or pass an int cv to fit "
            "it on each fold."
        ) from exc
    scores, alternative = positive_score(
        estimator, X, response_method, pos_label, classes
    )
    index = np.arange(len(scores))
    scores = check_fold_scores([scores], response_method)
    return OutOfFold(index, scores, alternative, np.zeros_like(index), estimator)


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
) -> OutOfFold:
    """Fit a clone per split and pool the scores of the test folds.

    With ``refit``, the final fit on all the data runs in the same parallel
    batch as the folds: it does not depend on the threshold.
    """
    if not splits:
        raise ValueError("cv produced no train/test split.")
    if not refit and len(splits) > 1:
        raise ValueError(
            "refit=False keeps the model of the single training split, but cv "
            f"has {len(splits)} splits; use refit=True or a cv with one split."
        )
    jobs = [
        delayed(_fit_and_score)(
            clone(estimator),
            X,
            y,
            fit_params,
            train,
            test,
            response_method,
            pos_label,
            classes,
            return_estimator=not refit,
        )
        for train, test in splits
    ]
    if refit:
        jobs.append(delayed(clone(estimator).fit)(X, y, **fit_params))
    results = Parallel(n_jobs=n_jobs)(jobs)
    final = results.pop() if refit else results[0][2]
    test_sets = [test for _, test in splits]
    scores = check_fold_scores([result[0] for result in results], response_method)
    alternative = None
    if results[0][1] is not None:
        alternative = np.concatenate([result[1] for result in results])
    index = np.concatenate(test_sets)
    fold = np.repeat(np.arange(len(splits)), [len(t) for t in test_sets])
    return OutOfFold(index, scores, alternative, fold, final)
