"""What ``retarget`` needs from ``fit``, and the re-decision itself.

``fit`` keeps the out-of-fold rows its decision was searched on (scores,
labels, folds, weights, per-row costs; never ``X``) in an
:class:`OutOfFoldRecord`. ``retarget`` reweighs them for another base rate
and fits a new decision rule on them, exactly as ``fit(prevalence=...)``
would have with the same folds, without fitting any model.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ._calibration import (
    PiecewiseLogisticCalibrator,
    effective_size,
    hinge_features,
    parameter_covariance,
)
from ._calibration_spread import softmax_covariance
from ._folds import OutOfFold
from ._prevalence import (
    PrevalenceEstimate,
    bbse_proportions,
    bbse_rate,
    check_prevalence,
    check_unlabelled_rows,
    decision_weights,
    em_rate,
)
from ._proportions_em import em_proportions, every_class_calibrator, score_features
from ._rules import choose_rule
from ._search import confusion_curve, cut_point
from ._validation import class_index, plain
from .objectives import InfeasibleTargetError

ESTIMATORS = ("auto", "em", "bbse")


def record_out_of_fold(oof, y_oof, weight_oof, metadata, classes, threshold) -> dict:
    """What ``fit`` keeps for ``retarget`` (``out_of_fold_``): plain arrays
    in a dict, so that a saved model asks no new type of its loader.

    ``score``, ``fold`` and ``alternative`` (multiclass, one class tuned: the
    best other class of each row) as the rule saw them, ``dtype`` the
    scores' type, ``labels`` each row's class index into ``classes_``,
    ``sample_weight`` the weights given to ``fit`` (before any prevalence)
    and ``metadata`` the objective's per-row costs; never ``X`` or the
    model. ``threshold`` is the fit's own (EM's calibration is hinged there).
    """
    fold = np.asarray(oof.fold)
    if fold.size and fold.min() >= 0:
        fold = _smallest_int(fold)
    return {
        "score": oof.score,
        "fold": fold,
        "alternative": oof.alternative,
        "dtype": np.dtype(oof.dtype).str,
        "labels": _smallest_int(class_index(y_oof, classes)),
        "sample_weight": weight_oof,
        "metadata": metadata,
        "threshold": threshold,
    }


def recorded_nbytes(record: dict) -> int:
    """Bytes of the arrays in ``record``: what it adds to a saved model."""
    arrays = [record[key] for key in ("score", "fold", "alternative", "labels")]
    arrays.append(record["sample_weight"])
    arrays.extend((record["metadata"] or {}).values())
    return int(sum(np.asarray(a).nbytes for a in arrays if a is not None))


def recorded_oof(record: dict) -> OutOfFold:
    """The out-of-fold scores a rule is fitted on, from the record."""
    return OutOfFold(
        index=None,
        score=record["score"],
        alternative=record["alternative"],
        fold=record["fold"],
        estimator=None,
        dtype=np.dtype(record["dtype"]),
    )


def _smallest_int(values: np.ndarray) -> np.ndarray:
    """``values`` (small non-negative integers) in the narrowest unsigned type."""
    top = int(values.max(initial=0))
    for kind in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(kind).max:
            return values.astype(kind)
    return values.astype(np.int64)


def estimate(model, X, method: str) -> PrevalenceEstimate:
    """The tuned class's rate (every class: the proportions) of the
    unlabelled rows ``X``, under label shift."""
    check_method(method)
    record = model.out_of_fold_
    classes, pos_label = model.classes_, model.pos_label_
    y = classes[record["labels"]]
    weight = record["sample_weight"]
    if pos_label is None:
        if method in ("auto", "em"):
            return _every_class_em(model, X, record, weight)
        return _every_class_bbse(model, X, record, y, weight)
    positive = y == pos_label
    rule = model.rule_
    scores, _ = rule.scores(model.estimator_, X)
    scores = np.asarray(scores, dtype=float)
    check_unlabelled_rows(scores.size)
    oof_score = record["score"]
    if oof_score.ndim == 2:
        oof_score = oof_score[:, rule.column]
    w = np.ones(positive.size) if weight is None else weight
    if method in ("auto", "em"):
        # Hinged at the fit's cut, whatever retargets came since: the same
        # rows always give the same estimate.
        calibrator = PiecewiseLogisticCalibrator(
            threshold=float(record["threshold"]), score_kind=rule.score_kind
        ).fit(oof_score, positive, sample_weight=weight)
        posterior = calibrator.predict_posterior_proba(scores)[:, 1]
        training_rate = float(np.sum(w[positive]) / np.sum(w))
        calibration = (
            hinge_features(calibrator, scores),
            parameter_covariance(calibrator, oof_score, positive, weight),
        )
        return em_rate(posterior, training_rate, calibration=calibration)
    cut = _most_separating_cut(oof_score, positive, weight)
    called = oof_score >= cut
    tpr = float(np.sum(w[positive & called]) / np.sum(w[positive]))
    fpr = float(np.sum(w[~positive & called]) / np.sum(w[~positive]))
    return bbse_rate(
        scores >= cut,
        tpr,
        fpr,
        effective_size(w[positive]),
        effective_size(w[~positive]),
    )


def _most_separating_cut(score, positive, weight) -> float:
    """The out-of-fold cut with the largest ``tpr - fpr`` (Youden's J).

    Any fixed decision identifies the rate under label shift; the error of
    the estimate grows as ``1 / (tpr - fpr)``, so the most separating cut
    is used rather than the tuned one, which a target may push to an end
    of the scores (no positive call at all, for a strict precision target).
    """
    curve = confusion_curve(positive, score, weight)
    separation = curve.tp / curve.tp[-1] - curve.fp / curve.fp[-1]
    return cut_point(curve.thresholds, int(np.argmax(separation)))


def decided_rate(found: PrevalenceEstimate, objective):
    """The rate a decision is made for from an estimate: the estimate, or,
    for an objective promising a confidence bound, the end of the estimate's
    one-sided interval at the same confidence that makes the promise hold
    at every rate beyond it (``objective.prevalence_side``), so that the
    estimate's own error is covered too."""
    side = objective.prevalence_side
    if side == 0 or np.ndim(found.value):
        return found.value
    reach = norm.ppf(objective.confidence) * found.std
    floor = 0.5 / found.n_rows
    return float(np.clip(found.value + side * reach, floor, 1 - floor))


def check_method(method) -> None:
    if method not in ESTIMATORS:
        raise ValueError(f"method must be one of {list(ESTIMATORS)}; got {method!r}.")


def _every_class_em(model, X, record, weight) -> PrevalenceEstimate:
    """EM on the estimator's scores of every class, recalibrated on the
    out-of-fold scores (temperature or matrix scaling)."""
    rule = model.rule_
    labels = record["labels"].astype(np.intp)
    features = score_features(record["score"], rule.score_kind)
    calibrated = every_class_calibrator(features, labels, weight)
    new_scores = rule.inner(model.estimator_, X, rule.response_method)
    new_scores = np.asarray(new_scores)
    check_unlabelled_rows(new_scores.shape[0])
    new_features = score_features(new_scores, rule.score_kind)
    posterior = calibrated.posterior(new_features)
    w = np.ones(labels.size) if weight is None else weight
    training = np.bincount(labels, weights=w, minlength=len(model.classes_))
    covariance = softmax_covariance(calibrated, features, labels, weight)
    return em_proportions(
        posterior,
        training / training.sum(),
        calibration=(calibrated, new_features, covariance),
    )


def _every_class_bbse(model, X, record, y, weight) -> PrevalenceEstimate:
    """Black-box shift estimation with the estimator's most likely class."""
    classes = model.classes_
    scores = record["score"]
    predicted_oof = np.argmax(scores, axis=1)
    truth = record["labels"].astype(np.intp)
    w = np.ones(truth.size) if weight is None else weight
    k = len(classes)
    joint = np.zeros((k, k))
    np.add.at(joint, (predicted_oof, truth), w)
    confusion = joint / joint.sum(axis=0, keepdims=True)
    rule = model.rule_
    new_scores = rule.inner(model.estimator_, X, rule.response_method)
    new_scores = np.asarray(new_scores)
    check_unlabelled_rows(new_scores.shape[0])
    return bbse_proportions(np.argmax(new_scores, axis=1), confusion)


def check_retargetable(model):
    """A ValueError when ``model`` kept nothing to re-decide from."""
    if getattr(model, "out_of_fold_", None) is None:
        raise ValueError(
            "This model kept no out-of-fold scores to re-decide from: it was "
            "fitted with retargetable=False (or by a version of "
            "threshold_estimators without retarget). Refit with "
            "retargetable=True (the default), or with prevalence=... directly."
        )
    if model.objective_.reads_rows:
        raise ValueError(
            f"retarget cannot re-decide {model.objective_!r}: a scorer reads the "
            "rows X themselves, which a fitted model does not keep. Refit with "
            "prevalence=... instead, or tune a count objective (F1, "
            "PrecisionTarget, CostMatrix, ...)."
        )


def resolved_prevalence(model, prevalence):
    """``prevalence`` checked for a fitted model's classes."""
    return check_prevalence(prevalence, model.classes_, model.pos_label_)


def describe(estimate_: PrevalenceEstimate, classes, pos_label) -> str:
    """One line saying what was estimated, for messages and the CLI."""
    if np.ndim(estimate_.value) == 0:
        return (
            f"rate of class {plain(pos_label)!r} {estimate_.value:.4f} ± "
            f"{estimate_.std:.4f} ({estimate_.method}, {estimate_.n_rows} rows)"
        )
    shares = ", ".join(
        f"{plain(c)!r}: {v:.4f}" for c, v in zip(classes, estimate_.value, strict=True)
    )
    source = f"{estimate_.method}, {estimate_.n_rows} rows"
    return f"class proportions {{{shares}}} ({source})"


def retargeted(model, prevalence, X, method):
    """``(rule, prevalence_, prevalence_estimate_)`` of ``model`` re-decided
    for ``prevalence``, or for the rate estimated from ``X``: a new rule fitted
    on the kept out-of-fold rows, with the settings of the fit. Nothing of
    ``model`` changes here, so a failure leaves it as it was."""
    check_retargetable(model)
    check_method(method)
    if prevalence is not None and X is not None:
        raise ValueError(
            "retarget takes the new rate or unlabelled rows to estimate it "
            "from, not both; got prevalence and X."
        )
    if X is None and method != "auto":
        # As the command line refuses --method without rows: a method that
        # is ignored would let a caller believe it was applied.
        raise ValueError(
            f"method chooses how the rate is estimated from X; without X there "
            f"is nothing to estimate, got method={method!r}."
        )
    record = model.out_of_fold_
    found = None
    if X is not None:
        found = estimate(model, X, method)
        prevalence = decided_rate(found, model.objective_)
    proportions = resolved_prevalence(model, prevalence)
    classes, pos_label = model.classes_, model.pos_label_
    y_oof = classes[record["labels"]]
    weight, prevalence_, class_ratio = decision_weights(
        y_oof, record["sample_weight"], classes, pos_label, proportions
    )
    rule = choose_rule(
        model.objective_,
        classes=classes,
        pos_label=pos_label,
        # The settings of the fit, not parameters set since.
        response_method=model.rule_.response_method,
        recalibrate=model.rule_.recalibrate,
        store_cv_results=model.rule_.store_cv_results,
        estimator_name=type(model.estimator_).__name__,
        class_ratio=class_ratio,
    )
    try:
        rule.fit(recorded_oof(record), y_oof, weight, None, record["metadata"])
    except InfeasibleTargetError as error:
        if found is None:
            if proportions is None:
                raise
            raise InfeasibleTargetError(
                f"{error} (deciding for prevalence {_rate_text(prevalence_)})"
            ) from error
        raise InfeasibleTargetError(
            f"{error} (at the rate estimated from X: "
            f"{describe(found, classes, pos_label)})"
        ) from error
    return rule, prevalence_, found


def _rate_text(prevalence_) -> str:
    if np.ndim(prevalence_):
        return "[" + ", ".join(f"{v:.4g}" for v in prevalence_) + "]"
    return f"{prevalence_:.4g}"
