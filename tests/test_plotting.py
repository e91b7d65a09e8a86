"""ThresholdCurveDisplay, checked against sklearn.metrics at the plotted thresholds."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    make_scorer,
    precision_recall_curve,
    precision_score,
    recall_score,
)
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    CostMatrix,
    PrecisionTarget,
    RecallTarget,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from threshold_estimators._plot_data import values_at  # noqa: E402
from threshold_estimators.plotting import ThresholdCurveDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=400, n_features=6, weights=[0.7], flip_y=0.05, random_state=0
    )
    return X, y


def folds():
    return StratifiedKFold(4, shuffle=True, random_state=0)


def counts(y_positive, score, cuts):
    """Brute force: (tp, fp, fn) of the decisions ``score >= t`` for each cut."""
    called = np.asarray(score)[None, :] >= np.asarray(cuts)[:, None]
    y_positive = np.asarray(y_positive, dtype=bool)
    tp = (called & y_positive).sum(axis=1)
    fp = (called & ~y_positive).sum(axis=1)
    return tp, fp, y_positive.sum() - tp


def check_rates(display, y, score, pos_label=1):
    """The plotted precision and recall equal sklearn's at every plotted cut."""
    x = display.precision_line_.get_xdata()
    assert np.array_equal(x, display.recall_line_.get_xdata())
    # Every distinct score is a plotted candidate: the search is exact.
    assert np.array_equal(x, np.unique(score))
    precision, recall, cuts = precision_recall_curve(y, score, pos_label=pos_label)
    assert np.array_equal(cuts, x)
    np.testing.assert_allclose(display.precision_line_.get_ydata(), precision[:-1])
    np.testing.assert_allclose(display.recall_line_.get_ydata(), recall[:-1])


def marked(display):
    (threshold,) = set(np.asarray(display.threshold_line_.get_xdata()).tolist())
    return threshold


def test_importing_the_package_never_imports_matplotlib():
    code = (
        "import sys, threshold_estimators, threshold_estimators.plotting, "
        "threshold_estimators.cli\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(
        ImportError, match=r'pip install "threshold-estimators\[plot\]"'
    ):
        ThresholdCurveDisplay.from_predictions([0, 1, 0, 1], [0.1, 0.4, 0.35, 0.8])


def test_from_estimator_out_of_fold_curves_and_fold_thresholds(binary):
    X, y = binary
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), cv=folds(), store_cv_results=True
    ).fit(X, y)
    display = ThresholdCurveDisplay.from_estimator(tuned)

    assert isinstance(display.figure_, matplotlib.figure.Figure)
    assert display.ax_.figure is display.figure_
    assert np.all(np.asarray(display.threshold_line_.get_xdata()) == tuned.threshold_)
    # The out-of-fold scores, rebuilt independently with the same folds.
    oof = cross_val_predict(
        LogisticRegression(), X, y, cv=folds(), method="predict_proba"
    )[:, 1]
    check_rates(display, y, oof)
    tp, fp, fn = counts(y == 1, oof, display.objective_line_.get_xdata())
    np.testing.assert_allclose(
        display.objective_line_.get_ydata(), 2 * tp / (2 * tp + fp + fn)
    )
    # Each fold's best threshold is marked by a tick, and each curve has a band.
    fold_thresholds = tuned.cv_results_["fold_thresholds"]
    ticks = [segment[0, 0] for segment in display.fold_rug_.get_segments()]
    np.testing.assert_allclose(sorted(ticks), np.sort(fold_thresholds))
    assert set(display.bands_) == {"objective", "precision", "recall"}
    assert display.target_line_ is None

    # Without per-fold curves (e.g. a model fitted by an earlier version), the
    # band is the range of the fold thresholds.
    del tuned.cv_results_["fold_curves"]
    display = ThresholdCurveDisplay.from_estimator(tuned)
    assert set(display.bands_) == {"threshold"}
    span = display.bands_["threshold"]
    if hasattr(span, "get_width"):  # a Rectangle since matplotlib 3.9
        extent = np.array([span.get_x(), span.get_x() + span.get_width()])
    else:
        extent = span.get_xy()[:, 0]
    assert extent.min() == pytest.approx(fold_thresholds.min())
    assert extent.max() == pytest.approx(fold_thresholds.max())


def test_from_estimator_on_held_out_data(binary):
    X, y = binary
    tuned = ThresholdTunedClassifier(LogisticRegression()).fit(X[:300], y[:300])
    display = ThresholdCurveDisplay.from_estimator(tuned, X[300:], y[300:])
    score = tuned.estimator_.predict_proba(X[300:])[:, 1]
    check_rates(display, y[300:], score)
    assert np.all(np.asarray(display.threshold_line_.get_xdata()) == tuned.threshold_)
    assert display.fold_rug_ is None and display.bands_ == {}


def test_from_estimator_decision_function_and_target_line(binary):
    X, y = binary
    tuned = ThresholdTunedClassifier(
        LinearSVC(), objective=RecallTarget(0.8), store_cv_results=True, cv=folds()
    ).fit(X, y)
    display = ThresholdCurveDisplay.from_estimator(tuned)
    oof = cross_val_predict(LinearSVC(), X, y, cv=folds(), method="decision_function")
    check_rates(display, y, oof)
    assert display.objective_line_ is None  # the objective is the precision line
    assert np.all(np.asarray(display.target_line_.get_ydata()) == 0.8)
    assert display.target_line_.get_color() == display.recall_line_.get_color()
    assert np.all(np.asarray(display.threshold_line_.get_xdata()) == tuned.threshold_)


def fold_rates(y, oof, cuts, test):
    """Brute-force precision (NaN with no positive call), recall and F1 of a fold."""
    tp, fp, fn = counts(y[test] == 1, oof[test], cuts)
    with np.errstate(invalid="ignore"):
        return tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn)


def _fold_curves_from_scratch(y, oof, layout):
    """Per-fold curves by brute force, in the two accepted layouts."""
    rows = []
    for _, test in folds().split(np.zeros(len(y)), y):
        cuts = np.concatenate(([np.inf], np.unique(oof[test])[::-1]))
        precision, recall, f1 = fold_rates(y, oof, cuts, test)
        rows.append(
            {
                "thresholds": cuts,
                "precision": precision,
                "recall": recall,
                "objective": f1,
            }
        )
    if layout == "list":
        return rows
    return {key: [row[key] for row in rows] for key in rows[0]}


@pytest.mark.parametrize("layout", ["stored", "list", "dict"])
def test_fold_curves_give_bands_spanning_the_folds(binary, layout):
    X, y = binary
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), cv=folds(), store_cv_results=True
    ).fit(X, y)
    oof = cross_val_predict(
        LogisticRegression(), X, y, cv=folds(), method="predict_proba"
    )[:, 1]
    if layout != "stored":  # the layouts another producer may use
        tuned.cv_results_ = {
            **tuned.cv_results_,
            "fold_curves": _fold_curves_from_scratch(y, oof, layout),
        }
    display = ThresholdCurveDisplay.from_estimator(tuned)
    assert set(display.bands_) == {"objective", "precision", "recall"}
    # Each band spans exactly the fold values at the plotted thresholds.
    x = display.precision_line_.get_xdata()
    fold_precision = np.array(
        [fold_rates(y, oof, x, test)[0] for _, test in folds().split(X, y)]
    )
    y_band = display.bands_["precision"].get_paths()[0].vertices[:, 1]
    assert y_band.min() == pytest.approx(np.nanmin(fold_precision))
    assert y_band.max() == pytest.approx(np.nanmax(fold_precision))
    assert display.fold_rug_ is not None


def test_values_at_is_the_value_of_the_decisions_score_at_least_x():
    rng = np.random.default_rng(0)
    score = rng.random(30).round(1)  # ties
    y = rng.random(30) < 0.4
    cuts = np.concatenate(([np.inf], np.unique(score)[::-1]))
    recall = [recall_score(y, score >= t) for t in cuts]
    x = np.linspace(-0.05, 1.05, 50)
    expected = [recall_score(y, score >= t) for t in x]
    np.testing.assert_allclose(values_at(cuts, recall, x), expected)


def test_from_predictions_f1_and_the_chosen_threshold(binary):
    X, y = binary
    score = LogisticRegression().fit(X[:200], y[:200]).predict_proba(X[200:])[:, 1]
    y = y[200:]
    display = ThresholdCurveDisplay.from_predictions(y, score)
    check_rates(display, y, score)
    tp, fp, fn = counts(y == 1, score, display.objective_line_.get_xdata())
    f1 = 2 * tp / (2 * tp + fp + fn)
    np.testing.assert_allclose(display.objective_line_.get_ydata(), f1)
    # The marked threshold reaches the best F1 over all cuts.
    assert f1_score(y, score >= marked(display)) == pytest.approx(f1.max())
    assert display.objective_ax_ is display.ax_


def test_from_predictions_string_labels_precision_target():
    rng = np.random.default_rng(1)
    y = np.where(rng.random(300) < 0.3, "spam", "ham")
    score = rng.normal(size=300) + 1.5 * (y == "spam")
    display = ThresholdCurveDisplay.from_predictions(
        y, score, objective=PrecisionTarget(0.8), pos_label="spam"
    )
    check_rates(display, y, score, pos_label="spam")
    assert np.all(np.asarray(display.target_line_.get_ydata()) == 0.8)
    assert display.target_line_.get_color() == display.precision_line_.get_color()
    called = np.where(score >= marked(display), "spam", "ham")
    assert precision_score(y, called, pos_label="spam") >= 0.8
    assert "spam" in display.ax_.get_xlabel()


def test_cost_objective_is_drawn_as_a_cost_on_its_own_axis(binary):
    X, y = binary
    score = LogisticRegression().fit(X[:200], y[:200]).predict_proba(X[200:])[:, 1]
    y = y[200:]
    display = ThresholdCurveDisplay.from_predictions(
        y, score, objective=CostMatrix([[0, 1], [10, 0]])
    )
    assert display.objective_ax_ is not display.ax_
    _, fp, fn = counts(y == 1, score, display.objective_line_.get_xdata())
    expected = (fp + 10 * fn) / len(y)
    np.testing.assert_allclose(display.objective_line_.get_ydata(), expected)
    (_, fp), (fn, _) = confusion_matrix(y, score >= marked(display))
    assert (fp + 10 * fn) / len(y) == pytest.approx(expected.min())


def test_scorer_objective_and_explicit_threshold(binary):
    X, y = binary
    score = LogisticRegression().fit(X[:200], y[:200]).predict_proba(X[200:])[:, 1]
    y = y[200:]
    display = ThresholdCurveDisplay.from_predictions(
        y, score, objective=make_scorer(cohen_kappa_score), threshold=0.3
    )
    x = display.objective_line_.get_xdata()
    np.testing.assert_allclose(
        display.objective_line_.get_ydata(),
        [cohen_kappa_score(y, (score >= t).astype(int)) for t in x],
    )
    assert np.all(np.asarray(display.threshold_line_.get_xdata()) == 0.3)
    no_mark = ThresholdCurveDisplay.from_predictions(y, score, threshold=None)
    assert no_mark.threshold_line_ is None


def test_plot_on_given_axes_and_styles(binary):
    X, y = binary
    tuned = ThresholdTunedClassifier(LogisticRegression(), store_cv_results=True).fit(
        X, y
    )
    fig, (left, right) = plt.subplots(1, 2)
    display = ThresholdCurveDisplay.from_estimator(tuned, ax=right, name="model A")
    assert display.ax_ is right and display.figure_ is fig
    assert right.get_title() == "model A"
    display.plot(ax=left, precision_kw={"color": "red"}, despine=True)
    assert display.ax_ is left
    assert matplotlib.colors.same_color(display.precision_line_.get_color(), "red")


def test_infeasible_target_is_still_drawn_without_a_threshold():
    y = np.array([0, 1, 0, 1, 0, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    with pytest.raises(ValueError, match="best precision reachable"):
        ThresholdCurveDisplay.from_predictions(y, score, objective=PrecisionTarget(0.9))
    display = ThresholdCurveDisplay.from_predictions(
        y, score, objective=PrecisionTarget(0.9), threshold=None
    )
    assert np.all(np.asarray(display.target_line_.get_ydata()) == 0.9)


def test_errors(binary):
    X, y = binary
    plain = ThresholdTunedClassifier(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="store_cv_results=True"):
        ThresholdCurveDisplay.from_estimator(plain)
    with pytest.raises(ValueError, match="both X and y"):
        ThresholdCurveDisplay.from_estimator(plain, X)
    with pytest.raises(TypeError, match="ThresholdTunedClassifier"):
        ThresholdCurveDisplay.from_estimator(LogisticRegression().fit(X, y), X, y)
    Xm, ym = make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )
    every_class = ThresholdTunedClassifier(
        LogisticRegression(), store_cv_results=True
    ).fit(Xm, ym)
    with pytest.raises(ValueError, match="pos_label=k"):
        ThresholdCurveDisplay.from_estimator(every_class)
    with pytest.raises(ValueError, match="binary target"):
        ThresholdCurveDisplay.from_predictions(ym, Xm[:, 0], pos_label=1)
    with pytest.raises(ValueError, match="finite"):
        ThresholdCurveDisplay.from_predictions([0, 1, 1], [0.2, np.nan, 0.4])
