"""How far the calibrator's own error moves the class proportions EM finds.

Every-class EM reads posteriors from a calibrator fitted on the out-of-fold
rows (:mod:`._proportions_em`). Its parameters are estimates too, and with a
few hundred rows a class their error can outweigh the sampling of thousands
of unlabelled rows, so the reported interval carries both (as the binary
``_prevalence.em_rate`` does): the covariance of the parameters, mapped to
the proportions by implicit differentiation of EM's fixed point (delta
method).

Both calibrators are softmax models whose logits are linear in their
parameters; each gives, for its rows, the curvature of its logits and
their response (``logit_curvature``, ``logit_response``), its penalty and
where its intercepts are, and nothing here depends on which one it is.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from ._calibration import effective_size

# Eigenvalues of the curvature below this share of the largest are
# directions the posteriors ignore (one constant added to every bias):
# left out, as the proportions do not move along them.
_NULL_SHARE = 1e-9
# Rows per piece of the per-row k x k curvatures.
_PIECE_ENTRIES = 1 << 22
# Beyond this many parameters (matrix scaling of more than 50 classes) the
# covariance is not computed, and the interval carries the sampling alone.
MAX_PARAMETERS = 2_550


def _spread(posterior: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per row, ``w_i (diag p_i - p_i p_i')``."""
    outer = posterior[:, :, None] * posterior[:, None, :]
    diagonal = np.einsum("nk,kl->nkl", posterior, np.eye(posterior.shape[1]))
    return weight[:, None, None] * (diagonal - outer)


def softmax_covariance(calibrator, features, labels, sample_weight=None):
    """The covariance of a fitted calibrator's parameters; None when they
    are too many (``MAX_PARAMETERS``).

    As for the binary calibrator (``_calibration.parameter_covariance``):
    the inverse of the information, ``sum_i w_i dz_i' (diag p_i - p_i p_i')
    dz_i`` (plus matrix scaling's penalty), the weights counting as Kish's
    effective number of rows; and, the class counts of the rows carrying no
    information about the calibration but only about the training
    proportions, which the decision holds fixed, each intercept's variance
    is that of the full likelihood less one over its class's rows
    (case-control sampling, Prentice and Pyke 1979).
    """
    n_rows, n_classes = features.shape
    weight = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight)
    penalty = calibrator.penalty()
    if penalty.size > MAX_PARAMETERS:
        return None
    posterior = calibrator.posterior(features)
    curvature = np.diag(penalty)
    step = max(1, _PIECE_ENTRIES // (n_classes * n_classes))
    for start in range(0, n_rows, step):
        piece = slice(start, start + step)
        curvature += calibrator.logit_curvature(
            features[piece], _spread(posterior[piece], weight[piece])
        )
    covariance = np.linalg.pinv(curvature, rcond=_NULL_SHARE, hermitian=True)
    covariance *= weight.sum() / effective_size(weight)
    intercepts, classes = calibrator.intercepts()
    rows = [effective_size(weight[labels == k]) for k in range(n_classes)]
    counted = 1.0 / np.maximum(np.asarray(rows)[classes], 1.0)
    if len(classes) == 1:  # one intercept: the log odds of class 1 to 0
        counted = counted + 1.0 / max(rows[0], 1.0)
    covariance[intercepts, intercepts] -= counted
    # The correction is exact only in the limit: on few or unevenly weighted
    # rows it can take more than the intercepts' variance, and a covariance
    # with a negative direction would cancel the sampling error. As the
    # binary case floors the intercept's variance at 0, its negative
    # eigenvalues are floored at 0.
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.maximum(values, 0.0)) @ vectors.T


def calibration_spread(proportions, training, calibrator, features, covariance):
    """The covariance the calibrator's parameters give the first ``k - 1``
    proportions found by EM on the rows of ``features`` (zero when
    ``covariance`` is None).

    At the fixed point ``G(pi, theta) = mean_i h_i - pi = 0``, with
    ``h_i = softmax(z_i(theta) + log(pi / training))``: ``dG/dtheta = mean_i
    S_i dz_i/dtheta`` and ``dG/dpi_j = mean_i (S_i[:, j] / pi_j - S_i[:, k] /
    pi_k) - (e_j - e_k)`` (the last proportion is one minus the others),
    ``S_i = diag h_i - h_i h_i'``; then ``dpi/dtheta = -(dG/dpi)^-1
    dG/dtheta``.
    """
    n_free = proportions.size - 1
    if covariance is None:
        return np.zeros((n_free, n_free))
    logits = np.log(np.clip(calibrator.posterior(features), 1e-300, None))
    moved = softmax(logits + np.log(proportions / training), axis=1)
    moved_spread = _spread(moved, np.ones(moved.shape[0]))
    mean_spread = moved_spread.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        in_rate = mean_spread[:, :n_free] / proportions[:n_free] - (
            mean_spread[:, -1:] / proportions[-1]
        )
    in_rate[:n_free] -= np.eye(n_free)
    in_rate[-1] += 1.0
    in_theta = calibrator.logit_response(features, moved_spread)
    try:
        jacobian = -np.linalg.solve(in_rate[:n_free], in_theta[:n_free])
    except np.linalg.LinAlgError:  # a flat likelihood: nothing identified
        return np.full((n_free, n_free), np.inf)
    return jacobian @ covariance @ jacobian.T
