"""Fitting the folds: out-of-fold scores of the class to tune."""

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params


def _positive_score(estimator, X, response_method: str, pos_label):
    """Score of ``pos_label`` from ``response_method``: greater means more positive."""
    raw = getattr(estimator, response_method)(X)
    classes = estimator.classes_
    if pos_label not in classes:
        raise ValueError(
            f"The fitted {type(estimator).__name__} knows the classes "
            f"{list(classes)}, which lack the class to tune, {pos_label!r}; "
            "every training fold needs samples of both classes."
        )
    column = int(np.flatnonzero(classes == pos_label)[0])
    raw = np.asarray(raw)
    if raw.ndim == 2:
        return raw[:, column] if raw.shape[1] > 1 else raw[:, 0] * (2 * column - 1)
    # A binary decision_function scores classes_[1].
    return raw if column == 1 else -raw


def _fit_and_score(
    estimator,
    X,
    y,
    fit_params,
    train,
    test,
    response_method,
    pos_label,
    return_estimator,
):
    """Fit ``estimator`` on ``train``, score ``test``; ``train=None`` scores all."""
    if train is None:
        X_test = X
    else:
        fold_fit_params = _check_method_params(X, fit_params, indices=train)
        estimator.fit(
            _safe_indexing(X, train), _safe_indexing(y, train), **fold_fit_params
        )
        X_test = _safe_indexing(X, test)
    scores = _positive_score(estimator, X_test, response_method, pos_label)
    return scores, (estimator if return_estimator else None)


def _fit_full(estimator, X, y, fit_params):
    return estimator.fit(X, y, **fit_params)
