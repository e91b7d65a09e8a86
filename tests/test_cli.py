"""The command line, run as a user would."""

import contextlib
import csv
import errno
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import write_csv
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    fbeta_score,
    precision_score,
    recall_score,
)
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators._cli.files import MAX_LINE
from threshold_estimators._cli.objective import parse, parse_objective
from threshold_estimators.cli import main
from threshold_estimators.objectives import (
    F1,
    AlertBudget,
    CostMatrix,
    FBeta,
    FixedThreshold,
    PrecisionTarget,
    RecallTarget,
)


def test_demo_prints_the_default_and_tuned_cuts(capsys):
    start = time.perf_counter()
    assert main(["demo"]) == 0
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    # Columns: decision (28 wide), threshold, precision, recall, F1, ...
    threshold = {
        line[:28].strip(): float(line[28:].split()[0])
        for line in out.splitlines()
        if line.startswith(("default", "tuned"))
    }
    assert set(threshold) == {
        "default cut (0.5)",
        "tuned: best F1",
        "tuned: precision >= 0.95",
        "tuned: cost matrix",
    }
    assert threshold["default cut (0.5)"] == 0.5
    # Each tuned cut moves the threshold the way its objective asks for.
    assert threshold["tuned: precision >= 0.95"] > 0.5
    assert threshold["tuned: cost matrix"] < 0.5
    assert elapsed < 30


def test_console_script_help():
    result = subprocess.run(
        [sys.executable, "-m", "threshold_estimators.cli", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "breast-cancer" in result.stdout


# pick, tune, predict


def run(capsys, *argv):
    """``main(argv)``: exit code, stdout, stderr; never a traceback."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(scope="module")
def scores():
    """Labels and scores with ties (two decimals), 30 % positive."""
    rng = np.random.default_rng(0)
    score = rng.random(200).round(2)
    y = (rng.random(200) < 0.6 * score).astype(int)
    return y, score


@pytest.fixture
def scores_csv(tmp_path, scores):
    y, score = scores
    return write_csv(
        tmp_path / "scores.csv",
        ["id", "y", "s"],
        zip(range(200), y, score, strict=True),
    )


def brute_force(y, score, value, feasible=lambda predicted: True):
    """Best ``value`` over every cut of the scores, sklearn metrics only."""
    cuts = np.concatenate(([np.inf], np.unique(score)))
    results = [value(score >= t) for t in cuts if feasible(score >= t)]
    return max(results)


def precision(y, predicted):
    return precision_score(y, predicted, zero_division=0.0)


OBJECTIVES = {
    "f1": lambda y, s: brute_force(y, s, lambda p: f1_score(y, p)),
    "fbeta:2": lambda y, s: brute_force(y, s, lambda p: fbeta_score(y, p, beta=2)),
    "precision>=0.6": lambda y, s: brute_force(
        y, s, lambda p: recall_score(y, p), lambda p: precision(y, p) >= 0.6
    ),
    "recall>=0.9": lambda y, s: brute_force(
        y, s, lambda p: precision(y, p), lambda p: recall_score(y, p) >= 0.9
    ),
    "cost:fp=1,fn=4": lambda y, s: brute_force(
        y, s, lambda p: -np.sum(confusion_matrix(y, p) * [[0, 1], [4, 0]])
    ),
}


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_pick_is_the_brute_force_optimum(capsys, scores, scores_csv, objective):
    y, score = scores
    code, out, _ = run(
        capsys,
        "pick",
        scores_csv,
        "--label",
        "y",
        "--score",
        "s",
        "--objective",
        objective,
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    predicted = score >= report["threshold"]
    # The reported rates are those of the decisions at the reported threshold.
    assert report["precision"] == pytest.approx(precision_score(y, predicted))
    assert report["recall"] == pytest.approx(recall_score(y, predicted))
    assert report["f1"] == pytest.approx(f1_score(y, predicted))
    (tn, fp), (fn, tp) = confusion_matrix(y, predicted)
    assert (report["tp"], report["fp"], report["tn"], report["fn"]) == (tp, fp, tn, fn)
    assert report["n"] == 200 and report["pos_label"] == 1
    # ... and they are the best of all cuts.
    best = OBJECTIVES[objective](y, score)
    achieved = {
        "f1": report["f1"],
        "fbeta:2": fbeta_score(y, predicted, beta=2),
        "precision>=0.6": report["recall"],
        "recall>=0.9": report["precision"],
        "cost:fp=1,fn=4": -report.get("cost", np.nan),
    }[objective]
    assert achieved == pytest.approx(best)
    if objective.startswith("cost"):
        assert report["cost"] == fp + 4 * fn
        assert report["mean_cost"] == pytest.approx(report["cost"] / 200)
    else:
        assert "cost" not in report
    if objective == "precision>=0.6":
        assert report["precision"] >= 0.6


def test_pick_string_labels_and_the_positive_label(capsys, tmp_path, scores):
    y, score = scores
    labels = np.where(y == 1, "fraud", "ok")
    path = write_csv(
        tmp_path / "s.csv", ["label", "p"], zip(labels, score, strict=True)
    )
    # Without --pos-label the greater label is positive: "ok" here.
    _, out, _ = run(capsys, "pick", path, "--label", "label", "--score", "p", "--json")
    assert json.loads(out)["pos_label"] == "ok"
    code, out, _ = run(
        capsys,
        "pick",
        path,
        "--label",
        "label",
        "--score",
        "p",
        "--pos-label",
        "fraud",
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    assert report["pos_label"] == "fraud" and report["n_positive"] == y.sum()
    called = np.where(score >= report["threshold"], "fraud", "ok")
    assert report["f1"] == pytest.approx(f1_score(labels, called, pos_label="fraud"))
    assert report["f1"] == pytest.approx(OBJECTIVES["f1"](y, score))


def test_pick_one_class_against_the_rest(capsys, tmp_path, scores):
    y, score = scores
    three = np.where(y == 1, 2, np.arange(200) % 2)  # classes 0, 1, 2
    path = write_csv(tmp_path / "s.csv", ["y", "s"], zip(three, score, strict=True))
    code, out, _ = run(
        capsys,
        "pick",
        path,
        "--label",
        "y",
        "--score",
        "s",
        "--pos-label",
        "2",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["f1"] == pytest.approx(OBJECTIVES["f1"](y, score))


def test_pick_human_report_and_plot(capsys, tmp_path, scores_csv):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curves.png"
    code, out, err = run(
        capsys,
        "pick",
        scores_csv,
        "--label",
        "y",
        "--score",
        "s",
        "--objective",
        "precision>=0.6",
        "--plot",
        plot,
    )
    assert code == 0
    assert "predict 1 when s >= " in out and "precision" in out and "recall" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(plot) in err  # progress line


def test_pick_plot_without_matplotlib_names_the_extra(capsys, monkeypatch, scores_csv):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(
        capsys, "pick", scores_csv, "--label", "y", "--score", "s", "--plot", "x.png"
    )
    assert code == 1
    assert 'pip install "threshold-estimators[plot]"' in err


def test_parse_objective_grammar():
    assert isinstance(parse_objective("F1"), F1)
    assert parse_objective("fbeta:0.5").get_params() == FBeta(0.5).get_params()
    assert parse_objective("precision >= 0.9").get_params() == (
        PrecisionTarget(0.9).get_params()
    )
    assert parse_objective("recall>=0.95").get_params() == (
        RecallTarget(0.95).get_params()
    )
    for spec in ("cost:fp=1,fn=20", "cost:fn=20,fp=1"):
        np.testing.assert_array_equal(parse_objective(spec).matrix, [[0, 1], [20, 0]])
    for spec, cut in [("threshold:0.25", 0.25), ("Threshold: -1.5e3", -1500.0)]:
        assert parse_objective(spec).get_params() == FixedThreshold(cut).get_params()


def test_parse_objective_confidence():
    objective = parse_objective("precision>=0.9@0.95")
    assert objective.get_params() == PrecisionTarget(0.9, confidence=0.95).get_params()
    objective = parse_objective("recall>=0.8@0.9")
    assert objective.get_params() == RecallTarget(0.8, confidence=0.9).get_params()


def test_pick_with_confidence_is_more_conservative(capsys, scores_csv):
    reports = []
    for objective in ("precision>=0.4", "precision>=0.4@0.9"):
        code, out, _ = run(
            capsys,
            "pick",
            scores_csv,
            "--label",
            "y",
            "--score",
            "s",
            "--objective",
            objective,
            "--json",
        )
        assert code == 0
        reports.append(json.loads(out))
    plain, confident = reports
    assert confident["precision"] >= 0.4
    assert confident["recall"] <= plain["recall"]
    assert confident["threshold"] >= plain["threshold"]


@pytest.fixture(scope="module")
def table():
    X, y = make_classification(
        n_samples=300, n_features=4, weights=[0.7], flip_y=0.05, random_state=1
    )
    return X, y


def table_csv(path, X, y, labels=None, order=None):
    header = ["f0", "f1", "f2", "f3", "target"]
    rows = [
        [*row, label]
        for row, label in zip(X, y if labels is None else labels, strict=True)
    ]
    if order is not None:  # columns in another order
        header = [header[i] for i in order]
        rows = [[row[i] for i in order] for row in rows]
    return write_csv(path, header, rows)


def read_predictions(text):
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


def test_tune_then_predict(capsys, tmp_path, table):
    X, y = table
    train = table_csv(tmp_path / "train.csv", X, y)
    model_file = tmp_path / "model.joblib"
    code, out, err = run(
        capsys,
        "tune",
        train,
        "--label",
        "target",
        "--objective",
        "precision>=0.8",
        "--output",
        model_file,
        "--json",
    )
    assert code == 0 and err == ""  # --json: no progress lines
    report = json.loads(out)
    model = joblib.load(model_file)
    assert isinstance(model, ThresholdTunedClassifier)
    assert report["threshold"] == model.threshold_
    assert list(model.feature_names_in_) == ["f0", "f1", "f2", "f3"]
    # The out-of-fold report, against scores rebuilt with the same folds.
    oof = cross_val_predict(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        X,
        y,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )[:, 1]
    predicted = oof >= report["threshold"]
    assert report["precision"] == pytest.approx(precision_score(y, predicted))
    assert report["recall"] == pytest.approx(recall_score(y, predicted))
    assert report["precision"] >= 0.8
    best_recall = brute_force(
        y, oof, lambda p: recall_score(y, p), lambda p: precision(y, p) >= 0.8
    )
    assert report["recall"] == pytest.approx(best_recall)

    # predict selects the feature columns by name, ignoring the label.
    shuffled = table_csv(tmp_path / "new.csv", X, y, order=[4, 2, 0, 3, 1])
    code, out, _ = run(capsys, "predict", model_file, shuffled, "--proba")
    assert code == 0
    header, rows = read_predictions(out)
    assert header == ["prediction", "proba_0", "proba_1"]
    np.testing.assert_array_equal([int(r[0]) for r in rows], model.predict(X))
    np.testing.assert_allclose(
        [[float(r[1]), float(r[2])] for r in rows], model.predict_proba(X)
    )
    out_file = tmp_path / "pred.csv"
    code, out, _ = run(capsys, "predict", model_file, shuffled, "--output", out_file)
    assert code == 0 and out == ""
    header, rows = read_predictions(out_file.read_text())
    assert header == ["prediction"] and len(rows) == len(y)


def test_tune_hgb_missing_values_recalibrated_string_labels(capsys, tmp_path, table):
    X, y = table
    X = X.copy()
    X[::7, 1] = np.nan
    labels = np.where(y == 1, "yes", "no")
    train = table_csv(tmp_path / "train.csv", np.where(np.isnan(X), "", X), y, labels)
    model_file = tmp_path / "m.joblib"
    # One OpenMP thread: on a busy machine HGB's threads can slow it 100-fold.
    with threadpool_limits(1):
        code, out, err = run(
            capsys,
            "tune",
            train,
            "--label",
            "target",
            "--model",
            "hgb",
            "--cv",
            "3",
            "--recalibrate",
            "--objective",
            "fbeta:2",
            "--output",
            model_file,
        )
    assert code == 0
    assert "fitting hgb on 3 folds" in err and "saved" in err  # progress
    assert "threshold" in out and "'yes'" in out
    with threadpool_limits(1):
        code, out, _ = run(capsys, "predict", model_file, train, "--proba")
    header, rows = read_predictions(out)
    assert header == ["prediction", "proba_no", "proba_yes"]
    # Recalibrated: "yes" exactly where its probability reaches one half.
    assert all((r[0] == "yes") == (float(r[2]) >= 0.5) for r in rows)
    assert {r[0] for r in rows} == {"yes", "no"}


@pytest.mark.slow  # two interpreters importing scikit-learn
def test_console_script_end_to_end(tmp_path, scores, scores_csv):
    script = shutil.which("threshold-estimators") or str(
        Path(sys.executable).with_name("threshold-estimators")
    )
    result = subprocess.run(
        [script, "pick", scores_csv, "--label", "y", "--score", "s", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["f1"] == pytest.approx(OBJECTIVES["f1"](*scores))
    result = subprocess.run(
        [script, "pick", scores_csv, "--label", "nope", "--score", "s"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no column 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_every_command_has_help(capsys):
    for command in ([], ["demo"], ["pick"], ["tune"], ["predict"]):
        assert main([*command, "--help"]) == 0
        assert "usage: threshold-estimators" in capsys.readouterr().out
    for command in ("pick", "tune"):
        main([command, "--help"])
        out = capsys.readouterr().out
        assert "precision>=P" in out and "threshold:T" in out  # the grammar
    main(["tune", "--help"])
    assert "--store-cv-results" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["pick", "s.csv", "--label", "y"], "--score"),
        (
            ["tune", "t.csv", "--label", "target", "--output", "m", "--cv", "1"],
            "K must",
        ),
        (
            ["tune", "t.csv", "--label", "target", "--output", "m", "--model", "svm"],
            "svm",
        ),
        (["predict", "m.joblib"], "FILE.csv"),
        (["fit"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and "usage:" in err


def test_data_errors_exit_1(capsys, tmp_path, scores, table):
    """Each mistake: exit code 1, a message naming it, no traceback."""
    y, score = scores
    X, target = table
    files = {
        "scores": write_csv(tmp_path / "s.csv", ["y", "s"], zip(y, score, strict=True)),
        "text_score": write_csv(
            tmp_path / "t.csv", ["y", "s"], [[0, "0.1"], [1, "high"]]
        ),
        "three": write_csv(
            tmp_path / "3.csv", ["y", "s"], zip(np.arange(200) % 3, score, strict=True)
        ),
        "infeasible": write_csv(
            tmp_path / "i.csv", ["y", "s"], [[0, 0.9], [1, 0.8], [0, 0.7], [1, 0.6]]
        ),
        "one": write_csv(tmp_path / "1.csv", ["y", "s"], [[1, 0.2], [1, 0.4]]),
        "ragged": write_csv(tmp_path / "r.csv", ["y", "s"], [[0, 0.1], [1, 0.2, 5]]),
        "empty": write_csv(tmp_path / "e.csv", [], []),
        "train": table_csv(tmp_path / "train.csv", X, target),
        "categorical": write_csv(
            tmp_path / "c.csv",
            ["color", "size", "target"],
            [["red", 1.0, 0], ["blue", 2.0, 1]] * 20,
        ),
        "missing": write_csv(
            tmp_path / "m.csv", ["a", "target"], [["", 0], [1.0, 1]] + [[0.5, 0]] * 20
        ),
        "multiclass": table_csv(tmp_path / "mc.csv", X, np.arange(300) % 3),
    }
    (tmp_path / "binary.csv").write_bytes(b"y,s\n\xff\xfe\x00garbage\n")
    files["binary"] = str(tmp_path / "binary.csv")
    model_file = tmp_path / "model.joblib"
    assert (
        main(
            [
                "tune",
                files["train"],
                "--label",
                "target",
                "--output",
                str(model_file),
                "--json",
            ]
        )
        == 0
    )
    capsys.readouterr()
    narrow = write_csv(tmp_path / "n.csv", ["f0", "f1"], X[:, :2])
    pick = ["pick", "--label", "y", "--score", "s"]
    cases = [
        ([*pick, tmp_path / "absent.csv"], "cannot read"),
        ([*pick, files["binary"]], "not UTF-8"),
        ([*pick, files["empty"]], "is empty"),
        ([*pick, files["ragged"]], "line 3: 3 fields"),
        (
            ["pick", files["scores"], "--label", "label", "--score", "s"],
            "no column 'label'",
        ),
        ([*pick, files["text_score"]], "must be numeric; line 3 holds 'high'"),
        ([*pick, files["three"]], "needs binary labels"),
        ([*pick, files["one"]], "single label"),
        (
            [*pick, files["scores"], "--pos-label", "7"],
            "--pos-label '7' is not a label",
        ),
        (
            [*pick, files["scores"], "--objective", "precision>0.9"],
            "malformed objective",
        ),
        (
            [*pick, files["scores"], "--objective", "fbeta:x"],
            "B must be a finite number",
        ),
        ([*pick, files["scores"], "--objective", "cost:fp=1"], "needs both costs"),
        (
            [*pick, files["scores"], "--objective", "precision>=1.5"],
            "P must be a precision in (0, 1]",
        ),
        (
            [*pick, files["scores"], "--objective", "cost:fp=0,fn=0"],
            "the costs fp=0 and fn=0 are refused",
        ),
        (
            [*pick, files["infeasible"], "--objective", "precision>=0.9"],
            "best precision reachable",
        ),
        (
            ["tune", files["categorical"], "--label", "target", "--output", model_file],
            "column 'color'",
        ),
        (
            ["tune", files["multiclass"], "--label", "target", "--output", model_file],
            "tune needs binary labels",
        ),
        (
            ["tune", files["missing"], "--label", "target", "--output", model_file],
            "--model hgb",
        ),
        (
            [
                "tune",
                files["train"],
                "--label",
                "target",
                "--output",
                tmp_path / "no" / "dir" / "m.joblib",
            ],
            "No such file",
        ),
        (
            ["predict", model_file, narrow],
            "lacks feature columns the model was fitted on",
        ),
        (["predict", files["train"], files["train"]], "not a model file"),
        (
            ["predict", tmp_path / "absent.joblib", files["train"]],
            "cannot read model file",
        ),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert code == 1, argv
        assert message in err, (argv, err)
        prefix = f"threshold-estimators {argv[0]}: error: "
        assert any(line.startswith(prefix) for line in err.splitlines()), err


# Hostile input: each mistake a one-line message and the right exit code, and no
# file lost.


CLI = [sys.executable, "-m", "threshold_estimators.cli"]


def one_error(err, command):
    """The single line of stderr, the error of ``command``."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"threshold-estimators {command}: error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, table):
    """A model saved by tune, in a directory of its own."""
    X, y = table
    directory = tmp_path_factory.mktemp("model")
    train = table_csv(directory / "train.csv", X, y)
    path = directory / "model.joblib"
    argv = ["tune", train, "--label", "target", "--output", str(path), "--json"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0
    return path


SPELLINGS = {
    "same": lambda path: path,
    "dot": lambda path: Path(os.path.relpath(path.parent)) / "." / path.name,
    "absolute": lambda path: path.resolve(),
    "parent": lambda path: path.parent / ".." / path.parent.name / path.name,
    "symlink": lambda path: _link(path, os.symlink),
    "hardlink": lambda path: _link(path, os.link),
}


def _link(path, make):
    link = path.with_name(f"link-{make.__name__}-{path.name}")
    if not os.path.lexists(link):
        make(path, link)
    return link


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_output_never_overwrites_an_input(capsys, tmp_path, model_file, spelling):
    # Neither file is valid input: only a refusal before reading anything
    # gives the overwrite message (not "not UTF-8", "not a model file").
    data = tmp_path / "data.csv"
    data.write_bytes(b"\xff\xfe not a csv \x00")
    model = tmp_path / "model.joblib"
    model.write_bytes(b"not a model")
    commands = [
        ("tune", data, [data, "--label", "y", "--output"]),
        ("predict", model, [model, data, "--output"]),
        ("predict", data, [model, data, "--output"]),
        ("pick", data, [data, "--label", "y", "--score", "s", "--plot"]),
    ]
    for command, victim, argv in commands:
        before = victim.read_bytes()
        code, out, err = run(capsys, command, *argv, SPELLINGS[spelling](victim))
        assert code == 2, (command, err)
        line = one_error(err, command)
        assert "refusing to overwrite an input" in line and str(victim) in line
        assert out == "" and victim.read_bytes() == before
    # The check recognises the same file, not merely the same name.
    code, _, err = run(capsys, "predict", model_file, data, "--output", model)
    assert code == 1 and "refusing" not in err


def test_tune_refuses_its_input_as_output_before_fitting(capsys, tmp_path, table):
    X, y = table
    train = Path(table_csv(tmp_path / "train.csv", X, y))
    before = train.read_bytes()
    code, _, err = run(capsys, "tune", train, "--label", "target", "--output", train)
    # One line: no "reading ..." progress line came before the refusal.
    assert code == 2 and "refusing to overwrite" in one_error(err, "tune")
    assert train.read_bytes() == before


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_pick_stops_reading_an_endless_line():
    # Before, /dev/zero's one endless line was read until the memory ran out.
    result = subprocess.run(
        [*CLI, "pick", "/dev/zero", "--label", "y", "--score", "p"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    line = one_error(result.stderr, "pick")
    assert f"/dev/zero, line 1: longer than {MAX_LINE} characters" in line


def test_long_lines_and_fields_are_refused(capsys, monkeypatch, tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text("y" * (MAX_LINE + 1))
    code, _, err = run(capsys, "pick", huge, "--label", "y", "--score", "s")
    assert code == 1
    assert f"huge.csv, line 1: longer than {MAX_LINE} characters" in err
    # A later line, with a small limit to keep the file small.
    monkeypatch.setattr("threshold_estimators._cli.files.MAX_LINE", 100)
    path = write_csv(tmp_path / "s.csv", ["y", "s"], [[0, 0.1], [1, "9" * 200]])
    code, _, err = run(capsys, "pick", path, "--label", "y", "--score", "s")
    assert code == 1 and "s.csv, line 3: longer than 100 characters" in err
    # A field beyond the csv module's limit: an unclosed quote swallowing the file.
    path = tmp_path / "quote.csv"
    path.write_text('y,s\n0,"0.1\n' + "1,0.2\n" * 30_000)
    code, _, err = run(capsys, "pick", path, "--label", "y", "--score", "s")
    assert code == 1
    assert "cannot parse" in one_error(err, "pick") and "field limit" in err


@pytest.mark.slow  # interpreters importing scikit-learn
def test_standard_input(capsys, tmp_path, scores_csv, table):
    argv = ["--label", "y", "--score", "s", "--objective", "precision>=0.6", "--json"]
    code, out, _ = run(capsys, "pick", scores_csv, *argv)
    assert code == 0
    text = Path(scores_csv).read_text()
    for name in ("-", "/dev/stdin"):
        result = subprocess.run(
            [*CLI, "pick", name, *argv],
            input=text,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == json.loads(out)
    # tune reads the same way; predict writes to stdout with --output -.
    X, y = table
    train = table_csv(tmp_path / "train.csv", X, y)
    model = tmp_path / "piped.joblib"
    result = subprocess.run(
        [*CLI, "tune", "-", "--label", "target", "--output", str(model), "--json"],
        input=Path(train).read_text(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    code, out, _ = run(
        capsys, "tune", train, "--label", "target", "--output", tmp_path / "m", "--json"
    )
    piped, on_disk = json.loads(result.stdout), json.loads(out)
    assert piped.pop("output") == str(model) and on_disk.pop("output")
    assert piped == on_disk
    code, out, _ = run(capsys, "predict", model, train, "--output", "-")
    assert code == 0 and len(read_predictions(out)[1]) == len(y)


def test_unwritable_outputs_name_the_path(capsys, tmp_path, model_file, table):
    X, y = table
    data = table_csv(tmp_path / "data.csv", X, y)
    outputs = {
        tmp_path: "it is a directory",
        tmp_path / "no" / "dir" / "out": "No such file or directory",
    }
    if os.path.exists("/dev/full"):
        outputs[Path("/dev/full")] = "No space left on device"
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        outputs[locked / "out"] = "Permission denied"
    for output, reason in outputs.items():
        for argv in (
            ["predict", model_file, data, "--output", output],
            ["tune", data, "--label", "target", "--output", output, "--json"],
        ):
            code, _, err = run(capsys, *argv)
            assert code == 1, argv
            assert f"cannot write {output}: {reason}" in one_error(err, argv[0])
    code, _, err = run(
        capsys, "pick", data, "--label", "target", "--score", "f0", "--plot", tmp_path
    )
    assert code == 1 and f"cannot write {tmp_path}: it is a directory" in err


def test_a_failed_write_keeps_the_previous_output(capsys, tmp_path, monkeypatch, table):
    X, y = table
    data = table_csv(tmp_path / "data.csv", X, y)
    model, predictions = tmp_path / "model.joblib", tmp_path / "pred.csv"
    assert main(["tune", data, "--label", "target", "--output", str(model)]) == 0
    assert main(["predict", str(model), data, "--output", str(predictions)]) == 0
    capsys.readouterr()
    before = {path: path.read_bytes() for path in (model, predictions)}

    def dump(value, filename):  # half a file, then the disk fails
        Path(filename).write_bytes(b"half a model")
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("joblib.dump", dump)
    code, _, err = run(capsys, "tune", data, "--label", "target", "--output", model)
    assert code == 1
    assert f"cannot write {model}: Input/output error" in err

    class Writer:
        def __init__(self, file, **kwargs):
            self.file = file

        def writerow(self, row):
            self.file.write(",".join(row) + "\n")

        def writerows(self, rows):
            self.file.write("half\n")
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("threshold_estimators._cli.model.csv.writer", Writer)
    code, _, err = run(capsys, "predict", model, data, "--output", predictions)
    assert code == 1
    assert f"cannot write {predictions}: Input/output error" in one_error(
        err, "predict"
    )
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "data.csv",
        "model.joblib",
        "pred.csv",
    ]  # no temporary file left behind


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_standard_output_is_an_error(scores_csv):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*CLI, "pick", scores_csv, "--label", "y", "--score", "s"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    line = one_error(result.stderr, "pick")
    assert "cannot write the standard output: No space left on device" in line


@pytest.mark.parametrize(
    "objective, got",
    [
        ("recall>=0.9@0.000001", "1e-06"),
        ("precision>=0.8@0.1", "0.1"),
        ("recall>=0.9@1", "1.0"),
        ("precision>=0.9@1.5", "1.5"),
    ],
)
def test_confidence_out_of_range(capsys, scores_csv, objective, got):
    code, _, err = run(
        capsys,
        "pick",
        scores_csv,
        "--label",
        "y",
        "--score",
        "s",
        "--objective",
        objective,
    )
    assert code == 1
    line = one_error(err, "pick")
    assert f"objective '{objective}': the confidence C must be in [0.5, 1)" in line
    assert line.endswith(f"got {got}.")
    assert "Target" not in line  # not the estimator's wording


def fbeta_exact(y, predicted, beta):
    """F-beta in exact arithmetic: no overflow whatever beta."""
    beta2 = Fraction(beta) ** 2
    tp = int(np.sum(predicted & (y == 1)))
    fp, fn = int(np.sum(predicted & (y == 0))), int(np.sum(~predicted & (y == 1)))
    return (1 + beta2) * tp / ((1 + beta2) * tp + beta2 * fn + fp)


@pytest.mark.parametrize("beta", ["1e200", "1e308", "1e-200", "3"])
def test_pick_fbeta_extreme_beta_is_the_exact_optimum(capsys, scores, scores_csv, beta):
    y, score = scores
    code, out, err = run(
        capsys,
        "pick",
        scores_csv,
        "--label",
        "y",
        "--score",
        "s",
        "--objective",
        f"fbeta:{beta}",
        "--json",
    )
    # beta=1e-200 weighs precision alone: its cut calls a handful of rows
    # positive, which the warning about few positive calls says.
    assert code == 0 and all("positive calls:" in line for line in err.splitlines())
    report = json.loads(out)
    cuts = np.unique(score)
    exact = [fbeta_exact(y, score >= t, float(beta)) for t in cuts]
    best = max(exact)
    # The highest of the best cuts: the search's tiebreak (fewest positive calls).
    expected = cuts[max(i for i, value in enumerate(exact) if value == best)]
    chosen = np.flatnonzero(cuts >= report["threshold"])[0]
    assert cuts[chosen] == expected


@pytest.mark.parametrize(
    "beta, message",
    [
        ("0", "B must be > 0; got 0.0"),
        ("-1", "B must be > 0; got -1.0"),
        ("inf", "B must be a finite number, got 'inf'"),
        ("nan", "B must be a finite number, got 'nan'"),
        ("1e400", "B must be a finite number, got '1e400'"),
    ],
)
def test_fbeta_invalid_beta(capsys, scores_csv, beta, message):
    code, _, err = run(
        capsys,
        "pick",
        scores_csv,
        "--label",
        "y",
        "--score",
        "s",
        "--objective",
        f"fbeta:{beta}",
    )
    assert code == 1 and message in one_error(err, "pick")


def test_huge_costs_choose_like_unit_costs(capsys, scores_csv):
    pick = ["pick", scores_csv, "--label", "y", "--score", "s", "--objective"]
    reports = {}
    for costs in (
        "fp=1,fn=1",
        "fp=1e308,fn=1e308",
        "fp=1.7976931348623157e308,fn=1.7976931348623157e308",
    ):
        code, out, err = run(capsys, *pick, f"cost:{costs}", "--json")
        # No overflow warning; only the one about the few rows called positive.
        assert code == 0 and all("positive calls:" in e for e in err.splitlines())
        reports[costs] = json.loads(out)
    unit, huge, largest = reports.values()
    assert huge["threshold"] == unit["threshold"] == largest["threshold"]
    assert huge["cost"] is None  # beyond the float range: null in JSON
    assert huge["mean_cost"] == pytest.approx(unit["mean_cost"] * 1e308)
    code, out, err = run(capsys, *pick, "cost:fp=1e308,fn=1e308")
    assert code == 0 and all("positive calls:" in e for e in err.splitlines())
    assert "cost beyond the float range (" in out
    # Costs below the smallest normal float cannot be rescaled.
    code, _, err = run(capsys, *pick, "cost:fp=1e-310,fn=1e-310")
    line = one_error(err, "pick")
    assert code == 1 and "the costs fp=1e-310 and fn=1e-310 are refused" in line
    assert "multiply them all by the same factor" in line


def test_hostile_files(capsys, tmp_path, scores, model_file, table):
    """Each file: the right answer, or a one-line message and exit code."""
    y, score = scores
    X, target = table

    def raw(name, data):
        (tmp_path / name).write_bytes(data)
        return tmp_path / name

    rows = list(zip(y, score, strict=True))
    bom_crlf = raw(
        "bom.csv",
        b"\xef\xbb\xbfy,s\r\n" + b"".join(f"{a},{b}\r\n".encode() for a, b in rows),
    )
    pick = ["pick", "--label", "y", "--score", "s", "--json"]
    code, out, _ = run(capsys, *pick, bom_crlf)
    assert code == 0 and json.loads(out)["f1"] == pytest.approx(
        OBJECTIVES["f1"](y, score)
    )
    # A duplicated name in a column not read is no ambiguity.
    extra = write_csv(
        tmp_path / "x.csv", ["y", "s", "z", "z"], [[a, b, 0, 0] for a, b in rows]
    )
    code, out, _ = run(capsys, *pick, extra)
    assert code == 0 and json.loads(out)["f1"] == pytest.approx(
        OBJECTIVES["f1"](y, score)
    )
    # Integer labels compared exactly (2**53 + 1 is 2**53 as a float) and in
    # numeric order (1e300 as an int64 used to wrap to a negative number).
    for labels, positive in [((2**53, 2**53 + 1), 2**53 + 1), ((0, "1e300"), 1e300)]:
        path = write_csv(
            tmp_path / "l.csv", ["y", "s"], [[labels[a], b] for a, b in rows]
        )
        code, out, err = run(capsys, *pick, path)
        assert code == 0 and err == "", err
        assert json.loads(out)["pos_label"] == positive

    cases = [
        (
            raw("nan.csv", b"y,s\n0,0.2\n1,nan\n"),
            "has 1 missing values (first on line 3)",
        ),
        (raw("empty.csv", b""), "is empty"),
        (raw("header.csv", b"y,s\n"), "has a header but no data rows"),
        (
            raw("dup.csv", b"y,s,s\n0,0.1,0.2\n1,0.3,0.4\n"),
            "duplicated column names: ['s']",
        ),
        (raw("one.csv", b"y,s\n1,0.1\n1,0.3\n"), "holds a single label"),
        (raw("latin1.csv", b"y,s\n0,0.1\n\xe9,0.3\n"), "not UTF-8"),
        (tmp_path, "Is a directory"),
    ]
    for path, message in cases:
        code, _, err = run(capsys, *pick, path)
        assert code == 1, path
        assert message in one_error(err, "pick"), err
    code, _, err = run(capsys, *pick, bom_crlf, "--pos-label", "yes")
    assert code == 1 and "--pos-label 'yes' is not a label" in one_error(err, "pick")
    code, _, err = run(capsys, "pick", bom_crlf, "--label", "s", "--score", "s")
    assert code == 2
    assert "--label and --score name the same column" in one_error(err, "pick")

    # A model refusing missing values names the columns, in one line.
    gaps = np.where(np.arange(300)[:, None] % 7 == 0, np.nan, X)
    path = table_csv(tmp_path / "gaps.csv", np.where(np.isnan(gaps), "", gaps), target)
    code, _, err = run(capsys, "predict", model_file, path)
    assert code == 1
    assert "refuses missing values, and the feature columns" in one_error(
        err, "predict"
    )
    # Features whose squares overflow: a message, not "Input X contains NaN".
    path = table_csv(tmp_path / "big.csv", X * 1e300, target)
    code, _, err = run(
        capsys, "tune", path, "--label", "target", "--output", tmp_path / "m"
    )
    assert code == 1 and "too large for logistic" in err.splitlines()[-1]
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_an_input_redirected_to_standard_input_is_never_overwritten(tmp_path, table):
    # `tune - --output data.csv < data.csv` once replaced the training data.
    X, y = table
    train = table_csv(tmp_path / "train.csv", X, y)
    before = Path(train).read_bytes()
    model = tmp_path / "m.joblib"
    subprocess.run(
        [*CLI, "tune", train, "--label", "target", "--output", str(model)],
        capture_output=True,
        timeout=300,
        check=True,
    )
    commands = [
        ["tune", "-", "--label", "target", "--output", train],
        ["predict", str(model), "-", "--output", train],
        ["predict", str(model), "-", "--output", "/dev/stdin"],
    ]
    for command in commands:
        with open(train, "rb") as stdin:
            result = subprocess.run(
                [*CLI, *command], stdin=stdin, capture_output=True, timeout=300
            )
        assert result.returncode == 2, result.stderr
        assert b"read on standard input: refusing to overwrite" in result.stderr
        assert Path(train).read_bytes() == before


def test_integer_labels_above_2_53_pick_the_named_class(capsys, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(
        "label,score\n9007199254740992,0.1\n9007199254740993,0.9\n"
        "9007199254740992,0.2\n9007199254740993,0.8\n9007199254740993,0.3\n"
    )
    for label in ("9007199254740993", "9007199254740992"):
        code, out, err = run(
            capsys,
            "pick",
            path,
            "--label",
            "label",
            "--score",
            "score",
            "--pos-label",
            label,
            "--json",
        )
        assert code == 0, err
        assert json.loads(out)["pos_label"] == int(label)


# threshold:T, a cut given by the user; lean saved models


def read_scores(path):
    """Labels and scores as the CSV file holds them (not the fixture's arrays)."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    return np.array([int(r["y"]) for r in rows]), np.array(
        [float(r["s"]) for r in rows]
    )


def counted(y, called):
    """tp, fp, tn, fn of the calls ``called``, counted one by one."""
    tp = fp = tn = fn = 0
    for label, call in zip(y.tolist(), called.tolist(), strict=True):
        tp += bool(call and label == 1)
        fp += bool(call and label == 0)
        tn += bool(not call and label == 0)
        fn += bool(not call and label == 1)
    return tp, fp, tn, fn


@pytest.mark.parametrize("cut", ["0.25", "0.5", "-3", "2"])
def test_pick_fixed_threshold_reports_that_cut(capsys, scores_csv, cut):
    y, score = read_scores(scores_csv)
    assert 0.25 in score and 0.5 in score  # cuts on a score: ">=" decides ties
    argv = ["pick", scores_csv, "--label", "y", "--score", "s"]
    code, out, err = run(capsys, *argv, "--objective", f"threshold:{cut}", "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["threshold"] == float(cut)  # exactly the cut, no search
    called = np.array([value >= float(cut) for value in score.tolist()])
    tp, fp, tn, fn = counted(y, called)
    assert (report["tp"], report["fp"], report["tn"], report["fn"]) == (tp, fp, tn, fn)
    assert report["recall"] == pytest.approx(tp / (tp + fn))
    if tp + fp:
        assert report["precision"] == pytest.approx(tp / (tp + fp))
    else:  # no positive call: precision undefined
        assert report["precision"] is None
    assert report["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert report["objective_value"] == pytest.approx(report["f1"])
    code, out, _ = run(capsys, *argv, "--objective", f"threshold:{cut}")
    assert code == 0
    assert f"predict 1 when s >= {float(cut)!r}" in out
    assert f"tp {tp}  fp {fp}  tn {tn}  fn {fn}" in out


def test_tune_fixed_threshold_then_predict(capsys, tmp_path, table):
    X, y = table
    train = table_csv(tmp_path / "train.csv", X, y)
    model_file = tmp_path / "fixed.joblib"
    code, out, err = run(
        capsys,
        "tune",
        train,
        "--label",
        "target",
        "--objective",
        "threshold:0.25",
        "--output",
        model_file,
        "--json",
    )
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["threshold"] == 0.25
    assert report["fold_thresholds"] == [0.25] * 5
    assert report["fold_threshold_std"] == 0
    # The out-of-fold counts of the cut, against scores rebuilt with the same folds.
    oof = cross_val_predict(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        X,
        y,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )[:, 1]
    counts = counted(y, oof >= 0.25)
    assert (report["tp"], report["fp"], report["tn"], report["fn"]) == counts
    assert report["f1"] == pytest.approx(f1_score(y, oof >= 0.25))
    # The saved model calls 1 exactly where its probability reaches the cut.
    code, out, _ = run(capsys, "predict", model_file, train, "--proba")
    assert code == 0
    header, rows = read_predictions(out)
    assert header == ["prediction", "proba_0", "proba_1"]
    predicted = np.array([int(r[0]) for r in rows])
    proba = np.array([float(r[2]) for r in rows])  # repr: the exact floats
    np.testing.assert_array_equal(predicted, (proba >= 0.25).astype(int))
    assert 0 < np.count_nonzero(proba < 0.5) - np.count_nonzero(proba < 0.25)
    model = joblib.load(model_file)
    np.testing.assert_array_equal(predicted, model.predict(X))
    again = ["--objective", "threshold:0.25", "--output", tmp_path / "again.joblib"]
    code, out, _ = run(capsys, "tune", train, "--label", "target", *again)
    assert code == 0
    assert "F1 at the fixed cut 0.25" in out and "best threshold" not in out


@pytest.mark.parametrize(
    "spec, got",
    [
        ("threshold:abc", "'abc'"),
        ("threshold:inf", "'inf'"),
        ("threshold:-inf", "'-inf'"),
        ("threshold:nan", "'nan'"),
        ("threshold:", "''"),
        ("threshold:0.25@0.9", "'0.25@0.9'"),
    ],
)
def test_malformed_fixed_threshold(capsys, tmp_path, scores_csv, spec, got):
    commands = {
        "pick": ["pick", scores_csv, "--label", "y", "--score", "s"],
        # Refused before the (absent) file is read.
        "tune": ["tune", tmp_path / "absent.csv", "--label", "y", "--output", "m"],
    }
    for command, argv in commands.items():
        code, out, err = run(capsys, *argv, "--objective", spec)
        assert code == 1 and out == ""
        line = one_error(err, command)
        assert f"malformed objective {spec!r}: T must be a finite number, got " in line
        assert line.endswith(f"got {got}.")
    assert not (tmp_path / "m").exists()


def test_refused_costs_in_the_grammars_terms(capsys, scores_csv):
    argv = ["pick", scores_csv, "--label", "y", "--score", "s", "--objective"]
    code, _, err = run(capsys, *argv, "cost:fp=-1,fn=2")
    assert code == 1
    line = one_error(err, "pick")
    assert "the costs fp=-1 and fn=2 are refused" in line
    assert "cost matrix [[0, A], [B, 0]]" in line and "cost more" in line


def tune_size(capsys, tmp_path, n_rows, *options):
    """The saved model's size in bytes, and the model, for ``n_rows`` rows."""
    X, y = make_classification(n_samples=n_rows, n_features=4, random_state=0)
    train = table_csv(tmp_path / f"train{n_rows}.csv", X, y)
    model = tmp_path / f"model{n_rows}{''.join(options)}.joblib"
    code, _, err = run(
        capsys,
        "tune",
        train,
        "--label",
        "target",
        "--output",
        model,
        "--json",
        *options,
    )
    assert code == 0, err
    return model.stat().st_size, joblib.load(model)


def test_tune_saves_a_lean_model(capsys, tmp_path):
    small, small_model = tune_size(capsys, tmp_path, 2_000)
    large, large_model = tune_size(capsys, tmp_path, 20_000)
    # Ten times the rows, the same model: the out-of-fold curves are not kept.
    assert large < 1.1 * small and large < 10_000
    for model in (small_model, large_model):
        assert not hasattr(model, "cv_results_")
        assert model.threshold_std_ >= 0 and len(model.rule_.fold_thresholds_) == 5


def test_tune_store_cv_results_keeps_the_curves(capsys, tmp_path):
    lean, _ = tune_size(capsys, tmp_path, 2_000)
    size, model = tune_size(capsys, tmp_path, 2_000, "--store-cv-results")
    results = model.cv_results_
    assert size > 10 * lean  # a curve of about one point per row
    assert {"thresholds", "tp", "fp", "tn", "fn", "fold_thresholds"} <= set(results)
    # The stored curve holds the decision: at the threshold, the rule's counts.
    index = np.count_nonzero(results["thresholds"] >= model.threshold_) - 1
    stored = {key: int(results[key][index]) for key in ("tp", "fp", "tn", "fn")}
    assert stored == model.rule_.counts_


# Per-row costs (@COLUMN), sample weights (--weight) and alert budgets (rate<=R)


@pytest.fixture(scope="module")
def rows():
    """Labels, tied scores, per-row costs and weights, 25 % positive."""
    rng = np.random.default_rng(3)
    n = 240
    score = rng.random(n).round(2)
    y = (rng.random(n) < 0.5 * score + 0.05).astype(int)
    amount = (rng.gamma(2.0, 30.0, n)).round(2)  # a missed positive's cost
    fee = rng.choice([1.0, 2.5, 4.0], n)  # a false alarm's cost
    weight = rng.choice([0.5, 1.0, 2.0, 0.0], n, p=[0.3, 0.4, 0.2, 0.1])
    return {"y": y, "s": score, "amount usd": amount, "fee": fee, "w": weight}


@pytest.fixture
def rows_csv(tmp_path, rows):
    return write_csv(
        tmp_path / "rows.csv", list(rows), zip(*rows.values(), strict=True)
    )


def row_cost_oracle(rows, costs, weighted):
    """The least mean cost per unit of weight over every cut, row by row.

    ``costs`` maps tn, fp, fn, tp to a number or a column of ``rows``.
    """
    y, score = rows["y"], rows["s"]
    weight = rows["w"] if weighted else np.ones(y.size)

    def cost(key):
        value = costs.get(key, 0.0)
        return rows[value] if isinstance(value, str) else np.full(y.size, value)

    means = {}
    for cut in np.concatenate(([np.inf], np.unique(score))):
        called = score >= cut
        per_row = np.select(
            [called & (y == 1), called & (y == 0), ~called & (y == 1)],
            [cost("tp"), cost("fp"), cost("fn")],
            cost("tn"),
        )
        means[cut] = math.fsum(weight * per_row) / math.fsum(weight)
    return means


ROW_COSTS = {
    "cost:fp=5,fn=@amount usd": {"fp": 5.0, "fn": "amount usd"},
    " COST: FP = @fee , fn=@amount usd, tp=-1": {
        "fp": "fee",
        "fn": "amount usd",
        "tp": -1.0,
    },
    "cost:tn=-0.5,fp=@fee,fn=@fee": {"tn": -0.5, "fp": "fee", "fn": "fee"},
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("spec", ROW_COSTS)
def test_pick_per_row_costs_is_the_brute_force_optimum(
    capsys, rows, rows_csv, spec, weighted
):
    argv = ["pick", rows_csv, "--label", "y", "--score", "s", "--objective", spec]
    argv += ["--weight", "w"] * weighted
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    means = row_cost_oracle(rows, ROW_COSTS[spec], weighted)
    best = min(means.values())
    # The cost of the reported cut, recomputed row by row, is the least of all.
    cut = min(c for c in means if c >= report["threshold"])
    assert means[cut] == pytest.approx(best, rel=1e-12, abs=1e-12)
    assert report["mean_cost"] == pytest.approx(best, rel=1e-12, abs=1e-12)
    total_weight = rows["w"].sum() if weighted else rows["y"].size
    assert report["cost"] == pytest.approx(best * total_weight, rel=1e-12)
    assert report["objective_value"] == -report["mean_cost"]
    # ... and the library's search, called directly on the same columns.
    columns = sorted({v for v in ROW_COSTS[spec].values() if isinstance(v, str)})
    names = {column: f"c{i}" for i, column in enumerate(columns)}
    matrix = [
        [ROW_COSTS[spec].get(key, 0.0) for key in pair]
        for pair in (("tn", "fp"), ("fn", "tp"))
    ]
    matrix = [[names.get(v, v) if isinstance(v, str) else v for v in r] for r in matrix]
    direct = pick_threshold(
        rows["y"],
        rows["s"],
        CostMatrix(matrix),
        sample_weight=rows["w"] if weighted else None,
        **{names[c]: rows[c] for c in columns},
    )
    assert report["threshold"] == direct.threshold
    assert report["mean_cost"] == -direct.score
    assert report["flagged_rate"] == pytest.approx(direct.positive_rate)
    counts = [report[key] for key in ("tp", "fp", "tn", "fn")]
    assert counts == pytest.approx([direct.tp, direct.fp, direct.tn, direct.fn])
    assert report["cost_columns"] == list(
        dict.fromkeys(v for v in ROW_COSTS[spec].values() if isinstance(v, str))
    )
    assert report.get("weight") == ("w" if weighted else None)
    # The text report: the cost per row (or unit of weight), the flagged rate.
    code, out, _ = run(capsys, *argv)
    assert code == 0
    unit = "unit of weight" if weighted else "row"
    assert f"({report['mean_cost']:.4g} per {unit})" in out
    assert f"flagged rate {report['flagged_rate']:.4f}" in out


def test_pick_weight_column(capsys, rows, rows_csv):
    """--weight: the weighted counts and rates of the weighted optimum."""
    y, score, weight = rows["y"], rows["s"], rows["w"]
    argv = ["pick", rows_csv, "--label", "y", "--score", "s", "--weight", "w"]
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    called = score >= report["threshold"]
    weighted_f1 = f1_score(y, called, sample_weight=weight)
    assert report["f1"] == pytest.approx(weighted_f1)
    best = brute_force(y, score, lambda p: f1_score(y, p, sample_weight=weight))
    assert report["f1"] == pytest.approx(best)
    assert report["tp"] == pytest.approx(weight[called & (y == 1)].sum())
    assert report["fp"] == pytest.approx(weight[called & (y == 0)].sum())
    assert report["flagged_rate"] == pytest.approx(weight[called].sum() / weight.sum())
    # Unit weights give the unweighted report, counts as floats.
    ones = write_csv(
        Path(rows_csv).with_name("ones.csv"),
        ["y", "s", "w"],
        zip(y, score, np.ones(y.size), strict=True),
    )
    reports = []
    for extra in (["--weight", "w"], []):
        code, out, _ = run(
            capsys, "pick", ones, "--label", "y", "--score", "s", "--json", *extra
        )
        reports.append(json.loads(out))
    weighted, plain_report = reports
    assert weighted.pop("weight") == "w"
    assert weighted == plain_report


def budget_oracle(y, score, weight, rate, min_precision=None, min_recall=None):
    """The cut with the best recall flagging at most ``rate`` of the weight
    (and meeting the floors); among equal recalls the fewest flags."""
    best = None
    for cut in np.unique(score):
        called = score >= cut
        flagged = weight[called].sum() / weight.sum()
        tp = weight[called & (y == 1)].sum()
        precision_value = tp / weight[called].sum()
        recall_value = tp / weight[y == 1].sum()
        if flagged > rate + 1e-12:
            continue
        if min_precision is not None and precision_value < min_precision - 1e-12:
            continue
        if min_recall is not None and recall_value < min_recall - 1e-12:
            continue
        key = (recall_value, -flagged)
        if best is None or key > best[0]:
            best = (key, cut)
    return best[1]


BUDGETS = {
    "rate<=0.1": {"rate": 0.1},
    "rate <= 0.25, precision >= 0.5": {"rate": 0.25, "min_precision": 0.5},
    "recall>=0.3,rate<=0.4": {"rate": 0.4, "min_recall": 0.3},
    "rate<=0.3,precision>=0.4,recall>=0.2": {
        "rate": 0.3,
        "min_precision": 0.4,
        "min_recall": 0.2,
    },
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("spec", BUDGETS)
def test_pick_alert_budget_is_the_brute_force_optimum(
    capsys, rows, rows_csv, spec, weighted
):
    y, score = rows["y"], rows["s"]
    weight = rows["w"] if weighted else np.ones(y.size)
    argv = ["pick", rows_csv, "--label", "y", "--score", "s", "--objective", spec]
    code, out, err = run(capsys, *argv, *["--weight", "w"] * weighted, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    cut = budget_oracle(y, score, weight, **BUDGETS[spec])
    called = score >= report["threshold"]
    np.testing.assert_array_equal(called, score >= cut)
    assert report["flagged_rate"] == pytest.approx(weight[called].sum() / weight.sum())
    assert report["flagged_rate"] <= BUDGETS[spec]["rate"]
    assert "cost" not in report
    terms = BUDGETS[spec]
    objective = AlertBudget(
        terms["rate"],
        min_precision=terms.get("min_precision"),
        min_recall=terms.get("min_recall"),
    )
    assert parse_objective(spec).get_params() == objective.get_params()


def test_parse_objective_budgets_and_row_costs():
    assert parse_objective("rate<=0.02").get_params() == AlertBudget(0.02).get_params()
    assert parse_objective("RATE <= 0.02 @ 0.95").get_params() == (
        AlertBudget(0.02, confidence=0.95).get_params()
    )
    assert parse_objective("rate<=0.02,precision>=0.9").get_params() == (
        AlertBudget(0.02, min_precision=0.9).get_params()
    )
    assert parse_objective("rate<=1@0.9,recall>=0.5").get_params() == (
        AlertBudget(1.0, min_recall=0.5, confidence=0.9).get_params()
    )
    # Column names as written (case, inner spaces); keys and numbers in any case.
    parsed = parse("Cost: FN = @Amount USD , fp=@fee, tp=@Amount USD, tn=-1")
    assert parsed.names == {"cost_0": "Amount USD", "cost_1": "fee"}
    assert parsed.objective.matrix == [[-1.0, "cost_1"], ["cost_0", "cost_0"]]
    assert parsed.objective.metadata_names == ("cost_0", "cost_1")
    parsed = parse('cost:fp=1,fn=@"amount, usd"')
    assert parsed.names == {"cost_0": "amount, usd"}
    # Constant costs as before; tp and tn may be added.
    assert parse_objective("cost:fp=1,fn=20,tp=-2").matrix == [
        [0.0, 1.0],
        [20.0, -2.0],
    ]
    assert parse("cost:fp=1,fn=2").names == {}


def test_pick_budget_with_confidence_flags_fewer(capsys, rows_csv):
    reports = []
    for spec in ("rate<=0.2", "rate<=0.2@0.95"):
        argv = ["pick", rows_csv, "--label", "y", "--score", "s", "--objective", spec]
        code, out, _ = run(capsys, *argv, "--json")
        assert code == 0
        reports.append(json.loads(out))
    plain_report, confident = reports
    assert confident["flagged_rate"] < plain_report["flagged_rate"] <= 0.2


@pytest.mark.parametrize(
    "objective",
    [
        "f1",
        "fbeta:2",
        "precision>=0.5",
        "recall>=0.8",
        "cost:fp=1,fn=4",
        "threshold:0.5",
        "rate<=0.1",
    ],
)
def test_every_report_has_the_flagged_rate(capsys, scores, scores_csv, objective):
    _, score = scores
    argv = [
        "pick",
        scores_csv,
        "--label",
        "y",
        "--score",
        "s",
        "--objective",
        objective,
    ]
    code, out, _ = run(capsys, *argv, "--json")
    assert code == 0
    report = json.loads(out)
    assert {"threshold", "precision", "recall", "f1", "flagged_rate"} <= set(report)
    called = score >= report["threshold"]
    assert report["flagged_rate"] == pytest.approx(called.mean())
    assert ("cost" in report) == objective.startswith("cost")
    code, out, _ = run(capsys, *argv)
    flagged = int(called.sum())
    assert f"flagged rate {called.mean():.4f} ({flagged} of 200 rows" in out


def test_tune_per_row_costs_and_weights(capsys, tmp_path, table):
    """The cost and weight columns weigh the search, and are no features."""
    X, y = table
    rng = np.random.default_rng(5)
    # A cost column that would be a strong feature: it follows the label.
    amount = (10 + 90 * y + rng.random(y.size) * 20).round(2)
    weight = rng.choice([0.5, 1.0, 2.0], y.size)
    header = ["f0", "f1", "amount usd", "f2", "w", "f3", "target"]
    data = [
        [r[0], r[1], a, r[2], w, r[3], t]
        for r, a, w, t in zip(X, amount, weight, y, strict=True)
    ]
    train = write_csv(tmp_path / "train.csv", header, data)
    before = Path(train).read_bytes()
    model_file = tmp_path / "model.joblib"
    spec = "cost:fp=5,fn=@amount usd"
    argv = ["tune", train, "--label", "target", "--objective", spec]
    code, out, err = run(
        capsys, *argv, "--weight", "w", "--output", model_file, "--json"
    )
    assert code == 0 and err == ""
    report = json.loads(out)
    model = joblib.load(model_file)
    assert list(model.feature_names_in_) == ["f0", "f1", "f2", "f3"]
    assert model.estimator_.n_features_in_ == 4
    assert report["features"] == ["f0", "f1", "f2", "f3"]
    assert report["cost_columns"] == ["amount usd"] and report["weight"] == "w"
    # The library fitted directly on the same features, costs and weights.
    direct = ThresholdTunedClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        objective=CostMatrix([[0, 5], ["amount", 0]]),
        cv=5,
        pos_label=1,
        random_state=0,
    ).fit(X, y, sample_weight=weight, amount=amount)
    assert report["threshold"] == direct.threshold_
    assert report["mean_cost"] == pytest.approx(-direct.best_score_, rel=1e-12)
    counts = model.rule_.counts_
    assert [report[k] for k in ("tp", "fp", "tn", "fn")] == pytest.approx(
        [counts[k] for k in ("tp", "fp", "tn", "fn")]
    )
    flagged = (counts["tp"] + counts["fp"]) / sum(counts.values())
    assert report["flagged_rate"] == pytest.approx(flagged)
    assert report["cost"] == pytest.approx(report["mean_cost"] * weight.sum())
    # The out-of-fold decisions, recomputed: the mean weighted cost reported.
    oof = cross_val_predict(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        X,
        y,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
        params={"logisticregression__sample_weight": weight},
    )[:, 1]
    called = oof >= report["threshold"]
    per_row = np.where(called & (y == 0), 5.0, 0.0) + np.where(
        ~called & (y == 1), amount, 0.0
    )
    assert report["mean_cost"] == pytest.approx(
        np.sum(weight * per_row) / weight.sum(), rel=1e-9
    )
    # predict selects the features by name; the extra columns are ignored.
    code, out, _ = run(capsys, "predict", model_file, train)
    assert code == 0
    _, predicted = read_predictions(out)
    np.testing.assert_array_equal([int(r[0]) for r in predicted], model.predict(X))
    # The text report; the inputs are untouched; the input is no output.
    code, out, err = run(capsys, *argv, "--output", tmp_path / "m2.joblib")
    assert code == 0 and "per row)" in out
    assert "5 features (neither the label nor ['amount usd'])" in err  # w is one
    code, out, err = run(
        capsys, *argv, "--weight", "w", "--output", tmp_path / "m3.joblib"
    )
    assert code == 0
    assert f"flagged rate {flagged:.4f}" in out and "per unit of weight)" in out
    assert "4 features (neither the label nor ['amount usd', 'w'])" in err
    code, _, err = run(capsys, *argv, "--output", train)
    assert code == 2 and "refusing to overwrite" in one_error(err, "tune")
    assert Path(train).read_bytes() == before


def test_tune_alert_budget_reports_the_out_of_fold_flagged_rate(
    capsys, tmp_path, table
):
    X, y = table
    train = table_csv(tmp_path / "train.csv", X, y)
    model_file = tmp_path / "budget.joblib"
    argv = ["tune", train, "--label", "target", "--objective", "rate<=0.2"]
    code, out, err = run(capsys, *argv, "--output", model_file, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    oof = cross_val_predict(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        X,
        y,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )[:, 1]
    called = oof >= report["threshold"]
    assert report["flagged_rate"] == pytest.approx(called.mean())
    assert report["flagged_rate"] <= 0.2
    best = budget_oracle(y, oof, np.ones(y.size), 0.2)
    np.testing.assert_array_equal(called, oof >= best)
    assert "cost" not in report


def test_row_cost_weight_and_budget_errors(capsys, tmp_path, rows, rows_csv):
    """Each mistake: one line in the grammar's or the file's terms, exit 1."""
    y = rows["y"]

    def variant(name, **columns):
        data = {**rows, **columns}
        return write_csv(tmp_path / name, list(data), zip(*data.values(), strict=True))

    amount = rows["amount usd"].astype(object)
    nan_cost = variant(
        "nan.csv", **{"amount usd": np.where(np.arange(240) == 6, "", amount)}
    )
    text_cost = variant(
        "text.csv", **{"amount usd": np.where(np.arange(240) == 9, "lots", amount)}
    )
    first_positive = int(np.flatnonzero(y == 1)[0])
    negative_cost = variant(
        "negative.csv",
        **{"amount usd": np.where(np.arange(240) == first_positive, -3.0, amount)},
    )
    weights = rows["w"].astype(object)
    negative_weight = variant("w.csv", w=np.where(np.arange(240) == 4, -1.0, weights))
    inf_weight = variant("inf.csv", w=np.where(np.arange(240) == 5, "inf", weights))
    zero_positive = variant("zero.csv", w=np.where(y == 1, 0.0, 1.0))
    pick = ["pick", "--label", "y", "--score", "s"]
    cost = ["--objective", "cost:fp=5,fn=@amount usd"]
    cases = [
        (
            [*pick, rows_csv, "--objective", "cost:fp=5,fn=@amount"],
            "has no column 'amount' (the per-row cost fn=@amount of --objective)",
        ),
        ([*pick, rows_csv, "--weight", "weight"], "has no column 'weight' (--weight)"),
        (
            [*pick, nan_cost, *cost],
            "column 'amount usd' of " + nan_cost + " has 1 missing values (first on "
            "line 8)",
        ),
        (
            [*pick, text_cost, *cost],
            "column 'amount usd' of " + text_cost + " must be numeric; line 11 "
            "holds 'lots'",
        ),
        (
            [*pick, negative_cost, *cost],
            f"line {first_positive + 2} of {negative_cost} (a positive row) costs "
            "-3 predicted negative",
        ),
        (
            [*pick, negative_weight, "--weight", "w"],
            f"column 'w' of {negative_weight} holds a negative weight, -1, on line 6",
        ),
        (
            [*pick, inf_weight, "--weight", "w"],
            f"column 'w' of {inf_weight} holds an infinite value on line 7",
        ),
        (
            [*pick, zero_positive, "--weight", "w"],
            "the positive rows have a total weight of 0 in column 'w'",
        ),
        (
            [*pick, rows_csv, "--objective", "rate<=1.5"],
            "the budget R must be a rate in (0, 1]; got 1.5.",
        ),
        (
            [*pick, rows_csv, "--objective", "rate<=0"],
            "the budget R must be a rate in (0, 1]; got 0.0.",
        ),
        (
            [*pick, rows_csv, "--objective", "rate<=0.02,precision>=2"],
            "the floor P must be a precision in (0, 1]; got 2.0.",
        ),
        (
            [*pick, rows_csv, "--objective", "rate<=0.2,recall>=0"],
            "the floor Q must be a recall in (0, 1]; got 0.0.",
        ),
        (
            [*pick, rows_csv, "--objective", "rate<=0.2@1"],
            "the confidence C must be in [0.5, 1)",
        ),
        (
            [*pick, rows_csv, "--objective", "rate<=x"],
            "R must be a finite number, got 'x'",
        ),
        (
            [*pick, rows_csv, "--objective", "precision>=0.9,recall>=0.5"],
            "the rate is missing",
        ),
        ([*pick, rows_csv, "--objective", "rate<=0.1,rate<=0.2"], "given twice"),
        (
            [*pick, rows_csv, "--objective", "rate<=0.1,precision>=0.9@0.9"],
            "a confidence @C belongs to the rate",
        ),
        ([*pick, rows_csv, "--objective", "rate<=0.1,f1"], "got the term 'f1'"),
        ([*pick, rows_csv, "--objective", "rate<=0.1,"], "got the term ''"),
        ([*pick, rows_csv, "--objective", "rate<0.1"], "malformed objective"),
        (
            [*pick, rows_csv, "--objective", "cost:fp=5,fn=@"],
            "fn=@ needs a column name",
        ),
        (
            [*pick, rows_csv, "--objective", 'cost:fp=5,fn=@"amount usd'],
            "a double quote is not closed",
        ),
        (
            [*pick, rows_csv, "--objective", "cost:fp=5,fn=@a,fn=2"],
            "each key given once",
        ),
        ([*pick, rows_csv, "--objective", "cost:fp=5,xx=2"], "each key given once"),
        ([*pick, rows_csv, "--objective", "cost:fp=@fee"], "needs both costs"),
        (
            [*pick, rows_csv, "--objective", "cost:fp=-1,fn=@amount usd"],
            "the costs fp=-1 and fn=@amount usd are refused",
        ),
        (
            [*pick, rows_csv, "--objective", "rate<=0.001"],
            "No threshold flags at most 0.001 of the rows",
        ),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code == 1, (argv, err)
        line = one_error(err, "pick")
        assert message in line, (argv, line)
        assert "cost_0" not in line and out == ""
    # A column named by two options: a usage error, before reading the file.
    usage = [
        ([*pick, rows_csv, "--weight", "y"], "--label and --weight name the same"),
        ([*pick, rows_csv, "--weight", "s"], "--score and --weight name the same"),
        (
            [*pick, rows_csv, "--objective", "cost:fp=@s,fn=1"],
            "--score and the per-row cost fp=@s of --objective name the same column",
        ),
        (
            [*pick, rows_csv, "--objective", "cost:fp=5,fn=@w", "--weight", "w"],
            "--weight and the per-row cost fn=@w of --objective name the same column",
        ),
        (
            ["tune", rows_csv, "--label", "y", "--weight", "y", "--output", "m"],
            "--label and --weight name the same column",
        ),
    ]
    for argv, message in usage:
        code, _, err = run(capsys, *argv)
        assert code == 2 and message in one_error(err, argv[0]), err
    # tune: the same errors, before any fit; nothing written.
    model = tmp_path / "m.joblib"
    tune = ["tune", "--label", "y", "--output", model, "--json"]
    for argv, message in [
        ([*tune, nan_cost, *cost], "has 1 missing values (first on line 8)"),
        ([*tune, negative_cost, *cost], f"line {first_positive + 2} of"),
        ([*tune, negative_weight, "--weight", "w"], "holds a negative weight"),
        ([*tune, rows_csv, "--objective", "cost:fp=5,fn=@nope"], "no column 'nope'"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 1 and message in one_error(err, "tune"), err
    assert not model.exists()


def test_help_shows_the_new_grammar(capsys):
    for command in ("pick", "tune"):
        main([command, "--help"])
        out = capsys.readouterr().out
        assert "rate<=R" in out and "fn=@COL" in out and "--weight COL" in out
