"""Rules are tested on out-of-fold scores built by hand, with a stand-in model
whose outputs are given: the oracle sees exactly the scores the rule sees."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from threshold_estimators._folds import OutOfFold


class GivenScores(ClassifierMixin, BaseEstimator):
    """A 'fitted' model whose outputs for row i are row i of ``scores``; X holds
    row indices."""

    def __init__(self, scores, classes):
        self.scores = scores
        self.classes = classes

    @property
    def classes_(self):
        return np.asarray(self.classes)

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        rows = np.asarray(X, dtype=int).ravel()
        scores = np.asarray(self.scores)[rows]
        if scores.ndim == 1:
            return np.column_stack([1 - scores, scores])
        return scores


def out_of_fold(scores, n_folds=1, estimator=None, dtype=np.float64):
    scores = np.asarray(scores, dtype=float)
    n = scores.shape[0]
    fold = np.arange(n) % n_folds
    return OutOfFold(np.arange(n), scores, None, fold, estimator, np.dtype(dtype))


def binary_scores_data():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 300)
    # Rounded: many ties, which every rule must treat as one block.
    scores = np.round(np.clip(0.35 * y + rng.uniform(0, 0.65, 300), 0, 1), 2)
    return y, scores
