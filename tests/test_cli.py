"""The command line, run as a user would."""

import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
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

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._cli.objective import parse_objective
from threshold_estimators.cli import main
from threshold_estimators.objectives import (
    F1,
    FBeta,
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


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


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


def test_parse_objective_confidence():
    objective = parse_objective("precision>=0.9@0.95")
    assert objective.get_params() == PrecisionTarget(0.9, confidence=0.95).get_params()
    objective = parse_objective("recall>=0.8@0.9")
    assert objective.get_params() == RecallTarget(0.8, confidence=0.9).get_params()


def test_pick_with_confidence_is_more_conservative(capsys, scores_csv):
    reports = []
    for objective in ("precision>=0.5", "precision>=0.5@0.9"):
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
    assert confident["precision"] >= 0.5
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
    main(["pick", "--help"])
    assert "precision>=P" in capsys.readouterr().out  # the objective grammar


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
        ([*pick, files["scores"], "--objective", "fbeta:x"], "B must be a number"),
        ([*pick, files["scores"], "--objective", "cost:fp=1"], "needs both costs"),
        ([*pick, files["scores"], "--objective", "precision>=1.5"], "min_precision"),
        ([*pick, files["scores"], "--objective", "cost:fp=0,fn=0"], "no preference"),
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
