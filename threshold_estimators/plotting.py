"""ThresholdCurveDisplay: objective, precision and recall against the threshold.

Matplotlib is imported only when a figure is drawn, so that importing this
module (and the package) works without the optional ``[plot]`` extra.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._plot_data import CURVES, estimator_params, predictions_params, values_at

__all__ = ["ThresholdCurveDisplay"]

_INSTALL_HINT = 'pip install "threshold-estimators[plot]"'
# The color of each curve, its band and a target on its rate.
_COLORS = {"objective": "C2", "precision": "C0", "recall": "C1"}


def _check_matplotlib(caller: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, which is not installed; install it with "
            f"{_INSTALL_HINT}."
        ) from exc


class ThresholdCurveDisplay:
    """Objective, precision and recall against the decision threshold.

    Use :meth:`from_estimator` (a fitted
    :class:`~threshold_estimators.ThresholdTunedClassifier`) or
    :meth:`from_predictions` (labels and scores from any system) rather than
    the constructor. Every parameter is stored as an attribute.

    The curves are drawn as steps: the value plotted at threshold ``t`` is the
    one of the decisions ``score >= t``, between two adjacent scores included.
    For reliability diagrams (are the probabilities calibrated?), use
    scikit-learn's :class:`sklearn.calibration.CalibrationDisplay`.

    Parameters
    ----------
    thresholds : ndarray of shape (n_candidates,)
        Candidate thresholds; non-finite ones (the ``+inf`` "no positive call"
        candidate) are not drawn.
    precision : ndarray of shape (n_candidates,)
        Precision at each candidate (NaN where nothing is called positive).
    recall : ndarray of shape (n_candidates,)
        Recall at each candidate.
    objective_score : ndarray of shape (n_candidates,), default=None
        The objective at each candidate, as plotted (a cost is plotted as a cost,
        lower is better); NaN where not evaluated. None draws no objective line
        (precision and recall targets, whose objective is the other rate).
    objective_name : str, default=None
        Legend label of the objective line.
    threshold : float, default=None
        The chosen threshold, marked by a vertical line.
    target : float, default=None
        A precision or recall target, drawn as a horizontal line.
    target_metric : {"precision", "recall"}, default=None
        The rate that ``target`` bounds.
    fold_thresholds : ndarray of shape (n_folds,), default=None
        Each fold's own best threshold (NaN where a fold has none), drawn as
        ticks along the bottom of the axes.
    fold_curves : list of dict, default=None
        One dict per fold with ``"thresholds"`` (that fold's candidates, in any
        order) and any of ``"objective"`` (on the scale of ``objective_score``),
        ``"precision"``, ``"recall"``. Each curve gets a band spanning the
        fold values (their minimum to their maximum) at every plotted threshold.
        Without two fold curves or more, the range of ``fold_thresholds`` is
        shaded instead.
    pos_label : int, float, bool or str, default=None
        The positive class, shown in the axis label.
    name : str, default=None
        Title of the axes.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the precision and recall curves.
    objective_ax_ : matplotlib Axes
        Axes of the objective curve: ``ax_``, or a second y axis (``twinx``)
        when the objective leaves [0, 1] (costs, negative correlations).
    figure_ : matplotlib Figure
        Figure containing the curves.
    objective_line_ : matplotlib Line2D or None
        The objective curve.
    precision_line_ : matplotlib Line2D
        The precision curve.
    recall_line_ : matplotlib Line2D
        The recall curve.
    threshold_line_ : matplotlib Line2D or None
        Vertical line at ``threshold``.
    target_line_ : matplotlib Line2D or None
        Horizontal line at ``target``.
    bands_ : dict
        The per-fold bands: ``"objective"``, ``"precision"``, ``"recall"``
        (PolyCollections, from ``fold_curves``), or ``"threshold"`` (the shaded
        range of ``fold_thresholds`` when there are no fold curves).
    fold_rug_ : matplotlib LineCollection or None
        Ticks at ``fold_thresholds``.

    See Also
    --------
    sklearn.metrics.PrecisionRecallDisplay : Precision against recall.
    sklearn.calibration.CalibrationDisplay : Reliability diagrams.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from threshold_estimators import ThresholdTunedClassifier
    >>> from threshold_estimators.plotting import ThresholdCurveDisplay
    >>> X, y = make_classification(n_samples=1_000, weights=[0.8], random_state=0)
    >>> tuned = ThresholdTunedClassifier(
    ...     LogisticRegression(), store_cv_results=True
    ... ).fit(X, y)
    >>> display = ThresholdCurveDisplay.from_estimator(tuned)
    >>> bool(display.threshold_line_.get_xdata()[0] == tuned.threshold_)
    True
    >>> sorted(display.bands_)  # each curve's range over the folds
    ['objective', 'precision', 'recall']
    """

    def __init__(
        self,
        thresholds,
        precision,
        recall,
        *,
        objective_score=None,
        objective_name=None,
        threshold=None,
        target=None,
        target_metric=None,
        fold_thresholds=None,
        fold_curves=None,
        pos_label=None,
        name=None,
    ):
        self.thresholds = thresholds
        self.precision = precision
        self.recall = recall
        self.objective_score = objective_score
        self.objective_name = objective_name
        self.threshold = threshold
        self.target = target
        self.target_metric = target_metric
        self.fold_thresholds = fold_thresholds
        self.fold_curves = fold_curves
        self.pos_label = pos_label
        self.name = name

    def plot(
        self,
        ax=None,
        *,
        name=None,
        objective_kw=None,
        precision_kw=None,
        recall_kw=None,
        threshold_kw=None,
        target_kw=None,
        band_kw=None,
        despine=False,
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        name : str, default=None
            Title of the axes; None uses ``self.name``.
        objective_kw, precision_kw, recall_kw : dict, default=None
            Keyword arguments of matplotlib's ``plot`` for each curve.
        threshold_kw, target_kw : dict, default=None
            Keyword arguments of ``axvline`` (chosen threshold) and ``axhline``
            (target).
        band_kw : dict, default=None
            Keyword arguments of ``fill_between`` / ``axvspan`` for the bands.
        despine : bool, default=False
            Whether to remove the top and right spines.

        Returns
        -------
        display : ThresholdCurveDisplay
            The display, with its artists as attributes.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots()
        self.ax_, self.figure_ = ax, ax.figure
        name = self.name if name is None else name

        thresholds = np.asarray(self.thresholds, dtype=float)
        order = np.flatnonzero(np.isfinite(thresholds))
        order = order[np.argsort(thresholds[order], kind="stable")]
        x = thresholds[order]
        step = {"drawstyle": "steps-pre"}  # a value holds up to its threshold

        def style(curve, user_kw, label=None):
            return {
                **step,
                "color": _COLORS[curve],
                "label": label or curve,
                **(user_kw or {}),
            }

        self.precision_line_ = ax.plot(
            x,
            np.asarray(self.precision, dtype=float)[order],
            **style("precision", precision_kw),
        )[0]
        self.recall_line_ = ax.plot(
            x, np.asarray(self.recall, dtype=float)[order], **style("recall", recall_kw)
        )[0]

        self.objective_ax_, self.objective_line_ = ax, None
        if self.objective_score is not None:
            y = np.asarray(self.objective_score, dtype=float)[order]
            shown = np.isfinite(y)
            if np.any((y[shown] < 0) | (y[shown] > 1)):
                self.objective_ax_ = ax.twinx()
                self.objective_ax_.set_ylabel(self.objective_name or "objective")
            kw = style("objective", objective_kw, self.objective_name)
            self.objective_line_ = self.objective_ax_.plot(x[shown], y[shown], **kw)[0]

        self.bands_ = self._draw_bands(x, band_kw)
        self.fold_rug_ = None
        fold_thresholds = self._finite_fold_thresholds()
        if fold_thresholds.size:
            self.fold_rug_ = ax.vlines(
                fold_thresholds,
                0,
                0.05,
                transform=ax.get_xaxis_transform(),
                colors="0.3",
                label=f"best threshold of each fold ({fold_thresholds.size})",
            )

        self.threshold_line_ = None
        if self.threshold is not None:
            kw = {"color": "k", "linestyle": "--", **(threshold_kw or {})}
            kw.setdefault("label", f"chosen threshold {self.threshold:.4g}")
            self.threshold_line_ = ax.axvline(self.threshold, **kw)

        self.target_line_ = None
        if self.target is not None:
            kw = {"color": _COLORS.get(self.target_metric, "0.5"), "linestyle": ":"}
            kw.update(target_kw or {})
            kw.setdefault(
                "label", f"{self.target_metric or 'target'} >= {self.target:g}"
            )
            self.target_line_ = ax.axhline(self.target, **kw)

        positive = (
            "" if self.pos_label is None else f" (positive class: {self.pos_label!r})"
        )
        ax.set(xlabel=f"decision threshold{positive}", ylim=(-0.02, 1.02))
        shares_axis = self.objective_line_ is not None and self.objective_ax_ is ax
        ax.set_ylabel(
            f"precision, recall, {self.objective_name or 'objective'}"
            if shares_axis
            else "precision, recall"
        )
        if name is not None:
            ax.set_title(name)
        handles, labels = ax.get_legend_handles_labels()
        if self.objective_ax_ is not ax:
            more_handles, more_labels = self.objective_ax_.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
        ax.legend(handles, labels, loc="best", fontsize="small")
        if despine:
            for side in ("top", "right") if self.objective_ax_ is ax else ("top",):
                ax.spines[side].set_visible(False)
        return self

    def _finite_fold_thresholds(self):
        if self.fold_thresholds is None:
            return np.empty(0)
        values = np.asarray(self.fold_thresholds, dtype=float)
        return values[np.isfinite(values)]

    def _draw_bands(self, x, band_kw):
        """Bands of the fold curves, or the range of the fold thresholds."""
        bands = {}
        if self.fold_curves is None or len(self.fold_curves) < 2:
            fold_thresholds = self._finite_fold_thresholds()
            if fold_thresholds.size > 1:
                kw = {"color": "0.5", "alpha": 0.15, **(band_kw or {})}
                kw.setdefault("label", "range of the fold thresholds")
                bands["threshold"] = self.ax_.axvspan(
                    fold_thresholds.min(), fold_thresholds.max(), **kw
                )
            return bands
        for curve in CURVES:
            if not all(curve in fold for fold in self.fold_curves):
                continue
            if curve == "objective" and self.objective_line_ is None:
                continue
            values = np.vstack(
                [
                    values_at(fold["thresholds"], fold[curve], x)
                    for fold in self.fold_curves
                ]
            )
            with warnings.catch_warnings():
                # A threshold above every score of a fold has no value there.
                warnings.simplefilter("ignore", RuntimeWarning)
                lower, upper = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            kw = {"color": _COLORS[curve], "alpha": 0.2, "step": "pre"}
            kw.update(band_kw or {})
            kw.setdefault("label", f"{curve}: range over {len(self.fold_curves)} folds")
            axes = self.objective_ax_ if curve == "objective" else self.ax_
            bands[curve] = axes.fill_between(x, lower, upper, **kw)
        return bands

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X=None,
        y=None,
        *,
        sample_weight=None,
        metadata=None,
        name=None,
        ax=None,
    ):
        """Curves of a fitted :class:`~threshold_estimators.ThresholdTunedClassifier`.

        Without ``X`` and ``y``, the out-of-fold curves stored by
        ``store_cv_results=True`` are drawn with the per-fold band: bands of the
        per-fold curves when ``cv_results_`` holds them (key ``"fold_curves"``),
        else the shaded range of the per-fold best thresholds. With ``X`` and
        ``y`` (held-out data), the curves of ``estimator_``'s scores on them are
        drawn instead, with the per-fold thresholds if stored. The vertical line
        marks ``threshold_``, the threshold the classifier uses; a precision or
        recall target is drawn as a horizontal line.

        Nothing is refitted: a classifier fitted without ``store_cv_results``
        needs ``X`` and ``y``, otherwise a ``ValueError`` says so.

        Parameters
        ----------
        estimator : ThresholdTunedClassifier
            Fitted, with one tuned class (binary target, or ``pos_label=k``).
        X : array-like of shape (n_samples, n_features), default=None
            Held-out samples, scored by ``estimator.estimator_``.
        y : array-like of shape (n_samples,), default=None
            Their labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the held-out samples.
        metadata : dict of array-like, default=None
            Per-row values of the held-out samples the objective reads: the
            per-row costs a
            :class:`~threshold_estimators.objectives.CostMatrix` names (e.g.
            ``{"amount": amount_test}``).
        name : str, default=None
            Title; None uses the inner estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.

        Returns
        -------
        display : ThresholdCurveDisplay
            The display, plotted.
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        params = estimator_params(estimator, X, y, sample_weight, name, metadata)
        return cls(**params).plot(ax=ax)

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_score,
        *,
        objective="f1",
        pos_label=None,
        sample_weight=None,
        threshold="auto",
        metadata=None,
        name=None,
        ax=None,
    ):
        """Curves of scores from any system, searched exactly for ``objective``.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            Binary labels.
        y_score : array-like of shape (n_samples,)
            Finite scores of the positive class (probabilities or decision
            values; greater means more likely positive).
        objective : Objective or str, default="f1"
            As the ``objective`` of
            :class:`~threshold_estimators.ThresholdTunedClassifier`; a
            :class:`~threshold_estimators.objectives.CostMatrix` lists the
            classes in sorted order.
        pos_label : int, float, bool or str, default=None
            The positive class; None means the greater label (with a warning
            unless the labels are 0/1, -1/1 or booleans).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        threshold : "auto", float or None, default="auto"
            The threshold marked: ``"auto"`` is the exact optimum of
            ``objective`` over these scores (an infeasible target raises, as in
            ``fit``), a float marks that value, None marks nothing.
        metadata : dict of array-like, default=None
            Per-row values the objective reads, as the ``**metadata`` of
            :func:`~threshold_estimators.pick_threshold` (e.g. the per-row
            costs of a :class:`~threshold_estimators.objectives.CostMatrix`).
        name : str, default=None
            Title of the axes.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.

        Returns
        -------
        display : ThresholdCurveDisplay
            The display, plotted.

        Examples
        --------
        >>> from threshold_estimators.plotting import ThresholdCurveDisplay
        >>> from threshold_estimators.objectives import PrecisionTarget
        >>> y = [0, 0, 1, 0, 1, 1, 0, 1]
        >>> score = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.75, 0.9]
        >>> display = ThresholdCurveDisplay.from_predictions(
        ...     y, score, objective=PrecisionTarget(0.7)
        ... )
        >>> display.threshold, display.target_line_.get_ydata()[0]
        (0.5, 0.7)
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
        params = predictions_params(
            y_true,
            y_score,
            objective,
            pos_label,
            sample_weight,
            threshold,
            name,
            metadata,
        )
        return cls(**params).plot(ax=ax)
