"""``verbose``: progress of ``fit`` on stderr, and nothing else changed."""

import re
import sys
import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from threshold_estimators import ThresholdTunedClassifier, _folds
from threshold_estimators.objectives import CostMatrix, PrecisionTarget

PREFIX = "[ThresholdTunedClassifier] "
FOLD_LINE = re.compile(
    r"fold (\d+)/(\d+) fitted in (\d+\.\d\d) s \((\d+) training rows, (\d+) scored\)$"
)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=400, n_features=6, weights=[0.7], flip_y=0.05, random_state=0
    )
    return X, y


def progress_lines(err):
    """The lines of ``verbose``, without their prefix; every line has it."""
    lines = err.splitlines()
    assert all(line.startswith(PREFIX) for line in lines), err
    return [line[len(PREFIX) :] for line in lines]


class MarkedFit(LogisticRegression):
    """A LogisticRegression writing ``FIT <rows>`` to stderr when it fits."""

    def fit(self, X, y, sample_weight=None):
        print(f"FIT {len(X)}", file=sys.stderr, flush=True)
        return super().fit(X, y, sample_weight=sample_weight)


class SlowOnRows(LogisticRegression):
    """A LogisticRegression whose fit on exactly ``slow_rows`` rows sleeps
    ``delay`` seconds first: one fold that finishes last."""

    def __init__(self, slow_rows=-1, delay=0.0, C=1.0):
        super().__init__(C=C)
        self.slow_rows = slow_rows
        self.delay = delay

    def fit(self, X, y, sample_weight=None):
        if len(X) == self.slow_rows:
            time.sleep(self.delay)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_verbose_0_prints_nothing(capfd, data, n_jobs):
    X, y = data
    ThresholdTunedClassifier(LogisticRegression(), cv=3, n_jobs=n_jobs).fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_each_fold_fit_and_the_refit_are_reported(capsys, data, n_jobs):
    X, y = data
    model = ThresholdTunedClassifier(
        LogisticRegression(), cv=4, n_jobs=n_jobs, verbose=1
    ).fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""  # stdout is left to the caller's data
    lines = progress_lines(err)
    assert lines[0] == f"fitting 4 folds and the refit on 400 rows (n_jobs={n_jobs})"
    folds = [FOLD_LINE.match(line) for line in lines[1:-1]]
    folds = [match for match in folds if match is not None]
    # Each fold once (in the order they finished), with its sizes.
    assert sorted(int(m[1]) for m in folds) == [1, 2, 3, 4]
    assert {int(m[2]) for m in folds} == {4}
    assert all(int(m[4]) + int(m[5]) == 400 for m in folds)
    assert sum(int(m[5]) for m in folds) == 400
    refits = [line for line in lines if line.startswith("refit on all 400 rows in ")]
    assert len(refits) == 1 and len(lines) == 7
    # The last line: the decision, as fitted.
    assert lines[-1].startswith(
        f"threshold {model.threshold_:.6g} (F1: {model.best_score_:.4g} on 400 "
        "out-of-fold rows); fit done in "
    )


def test_serial_folds_are_reported_as_each_finishes(capsys, data):
    X, y = data
    ThresholdTunedClassifier(MarkedFit(), cv=3, verbose=1).fit(X, y)
    lines = capsys.readouterr().err.splitlines()
    # Every fit's own line comes right before the line reporting it: the
    # report does not wait for the other fits.
    events = [
        "fit" if line.startswith("FIT ") else "report"
        for line in lines
        if line.startswith("FIT ") or "fitted in" in line or "refit on all" in line
    ]
    assert events == ["fit", "report"] * 4, lines


def test_parallel_folds_are_reported_as_they_finish(capsys, data):
    X, y = data
    # Fold 1 trains on 100 rows and sleeps; the other folds train on 300.
    rows = np.arange(len(y))
    splits = [(rows[:100], rows[100:])] + [
        (np.setdiff1d(rows, rows[i : i + 100]), rows[i : i + 100])
        for i in (100, 200, 300)
    ]
    delay = 2.0
    slow = SlowOnRows(slow_rows=100, delay=delay)
    model = ThresholdTunedClassifier(slow, cv=splits, n_jobs=2, verbose=1)
    model.fit(X, y)
    lines = progress_lines(capsys.readouterr().err)
    order = [int(m[1]) for m in map(FOLD_LINE.match, lines) if m is not None]
    # While fold 1 sleeps in one worker, the other worker's folds are reported.
    assert sorted(order) == [1, 2, 3, 4] and order[0] != 1, lines
    seconds = {int(m[1]): float(m[3]) for m in map(FOLD_LINE.match, lines) if m}
    assert seconds[1] >= delay - 0.01 and seconds[2] < delay, lines
    # The result is the fold order's, whatever the order of completion.
    serial = ThresholdTunedClassifier(SlowOnRows(), cv=splits).fit(X, y)
    assert model.threshold_ == serial.threshold_


def test_backends_without_unordered_results_report_at_the_end(
    capsys, monkeypatch, data
):
    """A backend refusing ``return_as="generator_unordered"`` (multiprocessing,
    ray's, joblib < 1.4) still fits, and reports every fold after the batch."""
    original = _folds.Parallel

    class NoGenerator(original):
        def __init__(self, *args, return_as="list", **kwargs):
            if return_as != "list":
                raise ValueError(f"Backend does not support return_as={return_as}")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_folds, "Parallel", NoGenerator)
    X, y = data
    model = ThresholdTunedClassifier(MarkedFit(), cv=3, verbose=1).fit(X, y)
    lines = capsys.readouterr().err.splitlines()
    fits = [i for i, line in enumerate(lines) if line.startswith("FIT ")]
    reports = [i for i, line in enumerate(lines) if "fitted in" in line]
    assert len(fits) == 4 and len(reports) == 3
    assert max(fits) < min(reports)  # after the batch
    monkeypatch.setattr(_folds, "Parallel", original)
    assert (
        model.threshold_
        == ThresholdTunedClassifier(MarkedFit(), cv=3).fit(X, y).threshold_
    )


@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize(
    "params",
    [
        {"recalibrate": True, "store_cv_results": True},
        {"objective": PrecisionTarget(0.8), "random_state": 0},
        {"objective": CostMatrix([[0, 1], [5, 0]]), "cv": 0.3, "random_state": 1},
    ],
    ids=["f1-recalibrated", "precision", "cost-one-split"],
)
def test_results_do_not_depend_on_verbose(capsys, data, params, n_jobs):
    X, y = data
    quiet = ThresholdTunedClassifier(LogisticRegression(), n_jobs=n_jobs, **params)
    loud = clone(quiet).set_params(verbose=1)
    quiet.fit(X, y)
    loud.fit(X, y)
    assert capsys.readouterr().err.count(PREFIX) > 0
    assert loud.threshold_ == quiet.threshold_
    assert loud.best_score_ == quiet.best_score_
    assert np.array_equal(loud.threshold_std_, quiet.threshold_std_, equal_nan=True)
    np.testing.assert_array_equal(loud.predict_proba(X), quiet.predict_proba(X))
    np.testing.assert_array_equal(loud.predict(X), quiet.predict(X))
    np.testing.assert_array_equal(
        loud.estimator_.coef_, quiet.estimator_.coef_, strict=True
    )
    for key in ("score", "fold", "labels"):
        np.testing.assert_array_equal(
            loud.out_of_fold_[key], quiet.out_of_fold_[key], strict=True
        )
    if params.get("store_cv_results"):
        for key in ("thresholds", "objective", "fold_thresholds"):
            np.testing.assert_array_equal(
                loud.cv_results_[key], quiet.cv_results_[key], strict=True
            )


def test_prefit_and_frozen_estimators(capsys, data):
    X, y = data
    fitted = LogisticRegression().fit(X[:200], y[:200])
    prefit = ThresholdTunedClassifier(fitted, cv="prefit", verbose=1)
    prefit.fit(X[200:], y[200:])
    lines = progress_lines(capsys.readouterr().err)
    assert len(lines) == 2, lines
    assert re.fullmatch(
        r"prefit LogisticRegression scored 200 rows in \d+\.\d\d s \(no fold fitted\)",
        lines[0],
    )
    assert lines[1].startswith(
        f"threshold {prefit.threshold_:.6g} (F1: {prefit.best_score_:.4g} on 200 "
        "rows scored by the prefit model)"
    )
    # A FrozenEstimator goes through the folds (its fit does nothing): each
    # "fit" is reported, and the decision is the prefit one on the same rows.
    frozen = ThresholdTunedClassifier(FrozenEstimator(fitted), cv=2, verbose=1)
    frozen.fit(X[200:], y[200:])
    lines = progress_lines(capsys.readouterr().err)
    assert sum(bool(FOLD_LINE.match(line)) for line in lines) == 2
    assert frozen.threshold_ == prefit.threshold_


def test_every_class_and_the_cost_rule_name_their_decision(capsys):
    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=4, random_state=0
    )
    model = ThresholdTunedClassifier(LogisticRegression(), cv=3, verbose=1).fit(X, y)
    last = progress_lines(capsys.readouterr().err)[-1]
    shown = ", ".join(f"{t:.4g}" for t in model.threshold_)
    assert last.startswith(f"thresholds {shown} (F1: {model.best_score_:.4g} on 300")
    costs = CostMatrix([[0, 1, 4], [1, 0, 1], [4, 1, 0]])
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=costs, cv=3, verbose=1
    ).fit(X, y)
    last = progress_lines(capsys.readouterr().err)[-1]
    # The cost itself: the score negated.
    assert last.startswith(
        f"k x k cost rule {model.cost_rule_!r} (cost per sample: "
        f"{-model.best_score_:.4g} on 300 out-of-fold rows)"
    )


def test_grid_search_over_verbose(capsys, data):
    X, y = data
    search = GridSearchCV(
        ThresholdTunedClassifier(LogisticRegression(), cv=3),
        {"verbose": [0, 1], "estimator__C": [0.1, 1.0]},
        cv=2,
        refit=False,  # only the searched fits print
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    # verbose changes nothing fitted: equal scores for equal C.
    scores = dict(
        zip(
            map(str, search.cv_results_["params"]),
            search.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    for C in (0.1, 1.0):
        assert (
            scores[str({"estimator__C": C, "verbose": 0})]
            == (scores[str({"estimator__C": C, "verbose": 1})])
        )
    err = capsys.readouterr().err
    # Two values of C, two CV splits: four tuners fitted with verbose=1, each
    # reporting its 3 folds.
    assert len(re.findall(r"fold \d/3 fitted in", err)) == 4 * 3


def test_verbose_is_validated(data):
    X, y = data
    assert ThresholdTunedClassifier(LogisticRegression()).get_params()["verbose"] == 0
    for bad in (-1, 0.5, "1"):
        with pytest.raises(InvalidParameterError, match="verbose"):
            ThresholdTunedClassifier(LogisticRegression(), verbose=bad).fit(X, y)


def test_folds_on_a_dask_cluster_are_reported_here(capsys, data):
    """The fits run in dask's workers; the lines are printed by this process
    as joblib hands their results back (the workers' own output would not
    reach the caller's stderr on a real cluster)."""
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    X, y = data
    serial = ThresholdTunedClassifier(LogisticRegression(), cv=3).fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        model = clone(serial).set_params(verbose=1).fit(X, y)
    # (dask may log to stderr too)
    err = capsys.readouterr().err
    lines = progress_lines("\n".join(e for e in err.splitlines() if PREFIX in e))
    folds = sorted(int(m[1]) for m in map(FOLD_LINE.match, lines) if m is not None)
    assert folds == [1, 2, 3]
    assert any(line.startswith("refit on all 400 rows in ") for line in lines)
    assert model.threshold_ == serial.threshold_
