"""Class proportions of unlabelled rows by expectation-maximization, for every
class at once (multiclass, every class tuned).

EM needs posteriors calibrated at the training proportions. The out-of-fold
scores of the fold models (log-probabilities, or decision values) are
recalibrated by bias-corrected temperature scaling, one temperature and one
bias per class (Alexandari, Kundaje and Shrikumar 2020, who found EM on such
posteriors hard to beat under label shift), unless its posteriors miss the
out-of-fold confusion between the classes (one-hot scores of trees and
nearest neighbours: one temperature cannot follow them, and EM was then
biased with intervals that never held the truth): then by matrix scaling, a
multinomial logistic regression on every class's score, whose k x k weights
can. Each iteration then
moves every new row's posterior to the current proportions and averages them
(Saerens, Latinne and Decaestecker 2002). The fixed point is the
maximum-likelihood mixture; its observed information gives the sampling
part of the standard errors. The calibration's own error is carried as in the
binary case (:mod:`._calibration_spread`): without it the intervals shrink
with the unlabelled rows alone, and hold the truth ever less often once those
outnumber the out-of-fold rows.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._calibration import effective_size
from ._calibration_spread import calibration_spread
from ._prevalence import (
    _EM_MAX_ITERATIONS,
    _EM_TOLERANCE,
    PrevalenceEstimate,
    _estimate,
)

# follows_confusion checks the classes most likely for at least this many
# (effective) rows, allowing this much beyond sampling.
_MIN_CHECKED_ROWS = 20
_CONFUSION_SLACK = 0.01
# The inverse strength of the weights' L2 penalty (scikit-learn's default):
# k x k weights fitted on a few hundred rows per class need some.
_REGULARIZATION = 1.0
# Log-probabilities are read from probabilities clipped here (a class given
# probability 0 by the model would otherwise be impossible for every weight).
_SMALLEST_PROBABILITY = 1e-12


def score_features(scores: np.ndarray, score_kind: str) -> np.ndarray:
    """What the temperature scales: log-probabilities, or decision values."""
    scores = np.asarray(scores, dtype=float)
    if score_kind == "probability":
        return np.log(np.clip(scores, _SMALLEST_PROBABILITY, 1.0))
    return scores


class TemperatureScaling:
    """``softmax(features / temperature + bias)``, fitted by the weighted
    multinomial log loss (bias-corrected temperature scaling)."""

    def fit(self, features, labels, sample_weight=None) -> TemperatureScaling:
        n_rows, n_classes = features.shape
        weight = np.ones(n_rows) if sample_weight is None else sample_weight
        weight = weight / weight.sum()
        onehot = np.zeros((n_rows, n_classes))
        onehot[np.arange(n_rows), labels] = 1.0
        scale = max(float(np.std(features)), 1e-12)

        def loss(parameters):
            # The inverse temperature on its log: always positive.
            inverse, bias = np.exp(parameters[0]), parameters[1:]
            logits = features * (inverse / scale) + bias
            log_posterior = log_softmax(logits, axis=1)
            residual = (softmax(logits, axis=1) - onehot) * weight[:, None]
            gradient = np.empty_like(parameters)
            gradient[0] = inverse / scale * np.sum(residual * features)
            gradient[1:] = residual.sum(axis=0)
            return -np.sum(weight * log_posterior[onehot > 0]), gradient

        start = np.r_[np.log(scale), np.zeros(n_classes)]
        found = minimize(loss, start, jac=True, method="L-BFGS-B")
        self.inverse_temperature_ = float(np.exp(found.x[0])) / scale
        self.bias_ = found.x[1:]
        return self

    def posterior(self, features) -> np.ndarray:
        return softmax(features * self.inverse_temperature_ + self.bias_, axis=1)

    # The logits are linear in (inverse temperature, biases): z_i = s f_i + b.
    def logit_curvature(self, features, spread) -> np.ndarray:
        """``sum_i (dz_i/dtheta)' spread_i (dz_i/dtheta)``, ``spread`` the
        rows' ``w_i (diag p_i - p_i p_i')``."""
        spread_f = np.einsum("nkl,nl->nk", spread, features)
        corner = np.sum(spread_f * features)
        edge = spread_f.sum(axis=0)
        return np.block(
            [[np.array([[corner]]), edge[None, :]], [edge[:, None], spread.sum(axis=0)]]
        )

    def logit_response(self, features, moved_spread) -> np.ndarray:
        """``mean_i moved_spread_i dz_i/dtheta``: ``(k, k + 1)``."""
        slope = np.einsum("nkl,nl->k", moved_spread, features) / features.shape[0]
        return np.c_[slope, moved_spread.mean(axis=0)]

    def penalty(self) -> np.ndarray:
        return np.zeros(self.bias_.size + 1)

    def intercepts(self) -> tuple[np.ndarray, np.ndarray]:
        """The positions of the intercepts among the parameters, and their
        classes."""
        classes = np.arange(self.bias_.size)
        return classes + 1, classes


class MatrixScaling:
    """The posterior of every class from every class's score: a multinomial
    logistic regression on the standardized scores (matrix scaling), fitted
    on the out-of-fold rows. Its intercepts are not penalized, so its mean
    posterior is each class's (weighted) training share; its k x k weights
    can follow which classes a model confuses, even from one-hot scores
    (a tree's, a nearest neighbour's), where one temperature cannot."""

    def fit(self, features, labels, sample_weight=None) -> MatrixScaling:
        self.model_ = make_pipeline(
            StandardScaler(), LogisticRegression(C=_REGULARIZATION, max_iter=1000)
        )
        self.model_.fit(
            features,
            labels,
            standardscaler__sample_weight=sample_weight,
            logisticregression__sample_weight=sample_weight,
        )
        return self

    def posterior(self, features) -> np.ndarray:
        return self.model_.predict_proba(features)

    # The logits are linear in the weights and intercepts: z_ic = W_c . [x_i, 1]
    # (x standardized), the parameters ordered class by class. A binary
    # model's single row of weights gives logits (0, z): the curvature and
    # response of its class-1 row alone.
    def _inputs(self, features) -> np.ndarray:
        x = self.model_[0].transform(features)
        return np.c_[x, np.ones(x.shape[0])]

    def _rows(self) -> slice:
        """The classes whose logits carry parameters."""
        return slice(1, None) if self.model_[-1].coef_.shape[0] == 1 else slice(None)

    def logit_curvature(self, features, spread) -> np.ndarray:
        x = self._inputs(features)
        rows = self._rows()
        spread = spread[:, rows, rows]
        n_rows, m = spread.shape[:2]
        width = x.shape[1]
        total = np.zeros((m * m, width * width))
        # In pieces of rows: n x k^2 and n x (k + 1)^2 products at once
        # would take gigabytes on large folds.
        step = max(256, (1 << 21) // max(m * m, width * width))
        for start in range(0, n_rows, step):
            piece = slice(start, start + step)
            total += spread[piece].reshape(-1, m * m).T @ (
                x[piece, :, None] * x[piece, None, :]
            ).reshape(-1, width * width)
        curvature = total.reshape(m, m, width, width).transpose(0, 2, 1, 3)
        return curvature.reshape(m * width, m * width)

    def logit_response(self, features, moved_spread) -> np.ndarray:
        x = self._inputs(features)
        rows = self._rows()
        response = np.einsum("nca,nj->caj", moved_spread[:, :, rows], x)
        return response.reshape(moved_spread.shape[1], -1) / x.shape[0]

    def penalty(self) -> np.ndarray:
        """scikit-learn minimizes ``C`` times the weighted log loss plus half
        the squared weights (intercepts free): per unit of the loss, ``1 / C``
        on each weight."""
        weights = self.model_[-1].coef_
        per_class = np.r_[np.full(weights.shape[1], 1.0 / _REGULARIZATION), 0.0]
        return np.tile(per_class, weights.shape[0])

    def intercepts(self) -> tuple[np.ndarray, np.ndarray]:
        weights = self.model_[-1].coef_
        n_rows, width = weights.shape[0], weights.shape[1] + 1
        classes = np.arange(n_rows) + (1 if n_rows == 1 else 0)
        return np.arange(n_rows) * width + width - 1, classes


def every_class_calibrator(features, labels, sample_weight=None):
    """Temperature scaling when its posteriors follow the out-of-fold
    confusion (:func:`follows_confusion`), else matrix scaling."""
    temperature = TemperatureScaling().fit(features, labels, sample_weight)
    if follows_confusion(temperature.posterior(features), labels, sample_weight):
        return temperature
    return MatrixScaling().fit(features, labels, sample_weight)


def follows_confusion(posterior, labels, sample_weight=None) -> bool:
    """Whether, among the rows each class is most likely for, the mean
    posterior of every class is its share of the labels, within four
    binomial standard errors (Kish's effective rows) and 0.01."""
    n_rows, n_classes = posterior.shape
    weight = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight)
    predicted = np.argmax(posterior, axis=1)
    for k in range(n_classes):
        rows = (predicted == k) & (weight > 0)
        w = weight[rows]
        effective = effective_size(w)
        if effective < _MIN_CHECKED_ROWS:
            continue
        share = np.bincount(labels[rows], weights=w, minlength=n_classes) / w.sum()
        mean = np.average(posterior[rows], axis=0, weights=w)
        error = np.sqrt(np.maximum(share * (1 - share), 1 / effective) / effective)
        if np.any(np.abs(mean - share) > 4 * error + _CONFUSION_SLACK):
            return False
    return True


def em_proportions(
    posterior: np.ndarray, training: np.ndarray, *, calibration=None
) -> PrevalenceEstimate:
    """The class proportions of the rows whose calibrated posteriors (at the
    ``training`` proportions) are ``posterior``, by EM; a ValueError at the
    boundary (a class under half a row).

    ``calibration``: ``(calibrator, features, covariance)``, the fitted
    calibrator, the rows' features and the covariance of its parameters
    (:func:`~._calibration_spread.softmax_covariance`); the calibrator's
    error is then added to the sampling error.
    """
    n_rows, n_classes = posterior.shape
    likelihood = posterior / training  # each class's density ratio, up to a row factor
    proportions = training.astype(float)
    for _ in range(_EM_MAX_ITERATIONS):
        mixed = likelihood * proportions
        updated = (mixed / mixed.sum(axis=1, keepdims=True)).mean(axis=0)
        moved = np.max(np.abs(updated - proportions))
        proportions = updated
        if moved < _EM_TOLERANCE:
            break
    # Observed information of the mixture in the first k - 1 proportions (the
    # last is one minus their sum).
    share = likelihood / (likelihood @ proportions)[:, None]
    gradient = share[:, :-1] - share[:, -1:]
    information = gradient.T @ gradient
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        std = np.full(n_classes, np.inf)
    else:
        if calibration is not None:
            covariance = covariance + calibration_spread(
                proportions, training, *calibration
            )
        last = covariance.sum()
        std = np.sqrt(np.clip(np.r_[np.diag(covariance), last], 0, None))
    return _estimate(proportions, std, "em", n_rows)
