"""A cut the user gives (``objectives.FixedThreshold``): applied, not searched."""

from __future__ import annotations

import numpy as np

from .single_cut import SingleCut


class FixedCut(SingleCut):
    """:class:`SingleCut` at the user's cut, ``objective.threshold``.

    Fitting finds the out-of-fold decisions of that cut (its counts, its F1 as
    ``best_score_``) and, with ``recalibrate``, fits the piecewise logistic
    around it. Every fold has the same cut, so ``threshold_std_`` is 0 (NaN
    with one fold); the folds are evaluated only to store their curves
    (``store_cv_results``), for the display's per-fold band.
    """

    @staticmethod
    def _spread(fold_thresholds) -> float:
        # Equal cuts: exactly 0 (a mean's rounding would leave 1e-16).
        return 0.0 if np.isfinite(fold_thresholds).sum() >= 2 else np.nan

    def _fold_thresholds(
        self, search, oof, y, sample_weight, X, pooled_curve, metadata=None
    ):
        n_folds = np.unique(oof.fold).size
        if n_folds == 1 or not self.store_cv_results:
            thresholds = np.full(n_folds, self.threshold_)
            return thresholds, ([pooled_curve] if n_folds == 1 else None)
        # Each fold's curve at the same cut, for the display's per-fold band.
        return super()._fold_thresholds(
            search, oof, y, sample_weight, X, pooled_curve, metadata
        )
