"""``--prevalence`` of tune and pick, and ``retarget``, run as a user would.

The Python API is the oracle: the CLI must give what ``ThresholdTunedClassifier
(..., prevalence=P)``, ``pick_threshold(..., prevalence=P)`` and ``retarget``
give with the same settings.
"""

import contextlib
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# The spellings of one path that must all count as an input (test_cli.py).
from test_cli import SPELLINGS

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators._cli.objective import parse
from threshold_estimators.cli import main

FEATURES = ["f0", "f1", "f2", "f3"]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return Path(path)


def run(capsys, *argv):
    """``main(argv)``: exit code, stdout, stderr; never a traceback."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def one_error(err, command):
    """The single line of stderr (after argparse's usage), the error."""
    lines = [line for line in err.splitlines() if line.startswith("threshold-")]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"threshold-estimators {command}: error: "), err
    return lines[0]


def tuned_in_python(X, y, objective="f1", **params):
    """What ``tune`` fits, built in Python."""
    return ThresholdTunedClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        objective=parse(objective).objective,
        cv=5,
        pos_label=1,
        random_state=0,
        **params,
    ).fit(X, y)


@pytest.fixture(scope="module")
def data():
    """Training rows (31 % positive) and deployment rows of another rate."""
    X, y = make_classification(
        n_samples=600, n_features=4, weights=[0.7], flip_y=0.05, random_state=1
    )
    train, new = slice(0, 300), slice(300, 600)
    # Deployment: the new rows with their positives over-represented.
    keep = np.r_[np.flatnonzero(y[new] == 1), np.flatnonzero(y[new] == 0)[:40]]
    return X[train], y[train], X[new][keep], y[new][keep]


@pytest.fixture(scope="module")
def files(tmp_path_factory, data):
    X, y, X_new, y_new = data
    directory = tmp_path_factory.mktemp("prevalence")
    train = write_csv(
        directory / "train.csv",
        [*FEATURES, "target"],
        ([*row, label] for row, label in zip(X, y, strict=True)),
    )
    # Columns in another order, the label among them: selected by name.
    order = [3, 1, 0, 2]
    unlabelled = write_csv(
        directory / "unlabelled.csv",
        ["target", *(FEATURES[i] for i in order)],
        ([label, *row[order]] for row, label in zip(X_new, y_new, strict=True)),
    )
    model, default = directory / "model.joblib", directory / "default.joblib"
    argv = ["tune", train, "--label", "target", "--json", "--output"]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main([str(a) for a in [*argv, model, "--retargetable"]]) == 0
        assert json.loads(out.getvalue())["retargetable"] is True
        # Without --retargetable, tune saves a lean model.
        assert main([str(a) for a in [*argv, default]]) == 0
    lean = directory / "lean.joblib"
    joblib.dump(tuned_in_python(X, y, retargetable=False), lean)
    return {
        "train": train,
        "unlabelled": unlabelled,
        "model": model,
        "default": default,
        "lean": lean,
    }


# tune --prevalence


@pytest.mark.parametrize(
    "objective, rate", [("f1", 0.1), ("precision>=0.6", 0.5), ("cost:fp=1,fn=4", 0.2)]
)
def test_tune_prevalence_is_the_estimators(
    capsys, tmp_path, data, files, objective, rate
):
    X, y, _, _ = data
    before = files["train"].read_bytes()
    output = tmp_path / "m.joblib"
    argv = ["tune", files["train"], "--label", "target", "--objective", objective]
    code, out, err = run(
        capsys, *argv, "--prevalence", rate, "--output", output, "--json"
    )
    assert code == 0 and err == ""
    report = json.loads(out)
    oracle = tuned_in_python(X, y, objective, prevalence=rate)
    saved = joblib.load(output)
    assert report["threshold"] == oracle.threshold_ == saved.threshold_
    assert report["prevalence"] == oracle.prevalence_ == saved.prevalence_ == rate
    assert report["training_prevalence"] == pytest.approx(y.mean())
    # The out-of-fold counts, reweighted to the rate.
    for key in ("tp", "fp", "tn", "fn"):
        assert report[key] == pytest.approx(oracle.rule_.counts_[key])
    positives = report["tp"] + report["fn"]
    assert positives / report["n"] == pytest.approx(rate)
    np.testing.assert_array_equal(saved.predict(X), oracle.predict(X))
    assert saved.out_of_fold_ is None and report["retargetable"] is False
    assert files["train"].read_bytes() == before


def test_tune_reports_the_rate_it_decides_for(capsys, tmp_path, data, files):
    _, y, _, _ = data
    argv = ["tune", files["train"], "--label", "target", "--output"]
    code, out, _ = run(capsys, *argv, tmp_path / "a.joblib", "--json")
    # Without --prevalence: the file's rate.
    assert code == 0 and json.loads(out)["prevalence"] == pytest.approx(y.mean())
    code, out, _ = run(capsys, *argv, tmp_path / "b.joblib", "--prevalence", "0.1")
    assert code == 0
    rates = f"rate of 1 of 0.1000 (--prevalence; the file's is {y.mean():.4f})"
    assert f"decided for a {rates}" in out
    assert "reweighted to that rate" in out
    # A rate next to an end reads as its distance to it, never as 0 or 1
    # (which are refused as input).
    code, out, _ = run(capsys, *argv, tmp_path / "c.joblib", "--prevalence", "1e-20")
    assert code == 0 and "rate of 1 of 1e-20 (--prevalence" in out


# pick --prevalence


@pytest.mark.parametrize("weighted", [False, True])
def test_pick_prevalence_is_pick_thresholds(capsys, tmp_path, weighted):
    rng = np.random.default_rng(0)
    score = rng.random(300).round(2)
    y = (rng.random(300) < 0.6 * score).astype(int)
    weight = rng.integers(1, 4, size=300).astype(float)
    path = write_csv(
        tmp_path / "s.csv", ["y", "s", "w"], zip(y, score, weight, strict=True)
    )
    extra = ["--weight", "w"] if weighted else []
    argv = ["pick", path, "--label", "y", "--score", "s", *extra, "--json"]
    code, out, err = run(capsys, *argv, "--prevalence", "0.1")
    assert code == 0 and err == ""
    report = json.loads(out)
    oracle = pick_threshold(
        y, score, "f1", sample_weight=weight if weighted else None, prevalence=0.1
    )
    assert report["threshold"] == oracle.threshold
    assert report["objective_value"] == oracle.score
    for key in ("tp", "fp", "tn", "fn"):
        assert report[key] == pytest.approx(getattr(oracle, key))
    observed = np.average(y, weights=weight if weighted else None)
    assert report["prevalence"] == 0.1
    assert report["observed_prevalence"] == pytest.approx(observed)
    # Without it: the file's own rate, and another threshold.
    code, out, _ = run(capsys, *argv)
    plain = json.loads(out)
    assert plain["prevalence"] == pytest.approx(observed)
    assert plain["threshold"] != report["threshold"]
    code, out, _ = run(capsys, *argv[:-1], "--prevalence", "0.1")
    assert "decided for a rate of 1 of 0.1000" in out


# retarget


def test_retarget_a_given_rate_is_pythons(capsys, tmp_path, data, files):
    X, y, _, _ = data
    before = files["model"].read_bytes()
    output = tmp_path / "new.joblib"
    argv = ["retarget", files["model"], "--prevalence", "0.15", "--output", output]
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    original = joblib.load(files["model"])
    oracle = joblib.load(files["model"]).retarget(0.15)
    saved = joblib.load(output)
    assert report["threshold"] == oracle.threshold_ == saved.threshold_
    assert report["prevalence"] == saved.prevalence_ == 0.15
    assert report["previous_threshold"] == original.threshold_
    assert report["previous_prevalence"] == pytest.approx(y.mean())
    assert report["estimated"] is False and report["method"] is None
    assert saved.prevalence_estimate_ is None
    np.testing.assert_array_equal(saved.predict(X), oracle.predict(X))
    assert list(saved.feature_names_in_) == FEATURES  # predict still selects them
    # As tune --prevalence on the same folds, and the input is untouched.
    assert saved.threshold_ == tuned_in_python(X, y, prevalence=0.15).threshold_
    assert files["model"].read_bytes() == before
    # The human report.
    code, out, _ = run(capsys, *argv[:-1], tmp_path / "human.joblib")
    assert code == 0
    assert f"threshold {oracle.threshold_!r} on P(class 1)" in out
    assert "decided for a rate of class 1 of 0.1500" in out


@pytest.mark.parametrize("method", [None, "em", "bbse"])
def test_retarget_from_unlabelled_rows_is_pythons(
    capsys, tmp_path, data, files, method
):
    _, _, X_new, y_new = data
    before = {k: files[k].read_bytes() for k in ("model", "unlabelled")}
    output = tmp_path / "new.joblib"
    extra = [] if method is None else ["--method", method]
    argv = ["retarget", files["model"], "--unlabelled", files["unlabelled"], *extra]
    code, out, err = run(capsys, *argv, "--output", output, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    oracle = joblib.load(files["model"]).retarget(X=X_new, method=method or "auto")
    found = oracle.prevalence_estimate_
    saved = joblib.load(output)
    assert report["threshold"] == oracle.threshold_ == saved.threshold_
    assert report["prevalence"] == found.value == saved.prevalence_
    assert report["estimated"] is True
    assert report["method"] == found.method == (method or "em")
    assert report["prevalence_std"] == found.std
    assert report["prevalence_interval"] == list(found.interval)
    assert report["n_unlabelled"] == found.n_rows == len(y_new)
    assert saved.prevalence_estimate_ == found
    # The new rows are 70 % positive, the training rows 31 %.
    low, high = found.interval
    assert low < y_new.mean() < high and found.value > 0.5
    assert {k: files[k].read_bytes() for k in before} == before
    # The human report gives the estimate with its error and interval.
    code, out, _ = run(capsys, *argv, "--output", tmp_path / "human.joblib")
    assert code == 0
    assert (
        f"estimated ({found.method}) from {found.n_rows} unlabelled rows of "
        f"{files['unlabelled']}: {found.value:.4f} +- {found.std:.4f}, 95 % "
        f"interval {low:.4f} to {high:.4f}"
    ) in out


def test_retarget_reads_unlabelled_rows_on_stdin(tmp_path, data, files):
    _, _, X_new, _ = data
    output = tmp_path / "new.joblib"
    argv = ["retarget", str(files["model"]), "--unlabelled", "-", "--output"]
    with open(files["unlabelled"], "rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "threshold_estimators.cli", *argv, str(output)],
            stdin=stdin,
            capture_output=True,
            text=True,
        )
    assert result.returncode == 0, result.stderr
    assert "unlabelled rows of <stdin>" in result.stdout
    oracle = joblib.load(files["model"]).retarget(X=X_new)
    assert joblib.load(output).threshold_ == oracle.threshold_


def test_retarget_a_model_tuning_every_class(capsys, tmp_path):
    X, y = make_classification(
        n_samples=300,
        n_features=5,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    model = tmp_path / "every.joblib"
    fitted = ThresholdTunedClassifier(LogisticRegression(), random_state=0).fit(X, y)
    joblib.dump(fitted, model)
    output = tmp_path / "new.joblib"
    argv = ["retarget", model, "--output", output, "--json", "--prevalence"]
    code, out, _ = run(capsys, *argv, "0.2,0.3,0.5")
    assert code == 0
    report = json.loads(out)
    oracle = joblib.load(model).retarget([0.2, 0.3, 0.5])
    np.testing.assert_array_equal(report["threshold"], oracle.threshold_)
    np.testing.assert_array_equal(joblib.load(output).threshold_, oracle.threshold_)
    assert report["prevalence"] == pytest.approx([0.2, 0.3, 0.5])
    assert report["pos_label"] is None and report["classes"] == [0, 1, 2]
    # Estimated (em) from unlabelled rows without feature names.
    rows = write_csv(tmp_path / "rows.csv", ["a", "b", "c", "d", "e"], X[:120])
    code, out, _ = run(
        capsys, "retarget", model, "--unlabelled", rows, "--output", output, "--json"
    )
    assert code == 0
    oracle = joblib.load(model).retarget(X=X[:120])
    np.testing.assert_allclose(json.loads(out)["prevalence"], oracle.prevalence_)
    assert json.loads(out)["method"] == "em"
    # One number and the wrong count are refused (usage errors).
    for value, message in [
        ("0.2", "must give one proportion per class"),
        ("0.2,0.8", "got shape (2,)"),
    ]:
        code, _, err = run(capsys, *argv, value)
        assert code == 2 and message in one_error(err, "retarget")
    # Each method as the library estimates it.
    for method in ("em", "bbse"):
        argv = ["retarget", model, "--unlabelled", rows, "--method", method]
        code, out, _ = run(capsys, *argv, "--output", tmp_path / "m.joblib", "--json")
        oracle = joblib.load(model).retarget(X=X[:120], method=method)
        assert code == 0 and json.loads(out)["method"] == method
        np.testing.assert_allclose(json.loads(out)["prevalence"], oracle.prevalence_)


# errors


def test_usage_errors_exit_2(capsys, tmp_path, files):
    model, unlabelled = files["model"], files["unlabelled"]
    output = tmp_path / "out.joblib"
    tune = ["tune", files["train"], "--label", "target", "--output", output]
    pick = ["pick", files["train"], "--label", "target", "--score", "f0"]
    retarget = ["retarget", model, "--output", output]
    cases = [
        (retarget, "one of the arguments --prevalence --unlabelled is required"),
        (
            [*retarget, "--prevalence", "0.2", "--unlabelled", unlabelled],
            "argument --unlabelled: not allowed with argument --prevalence",
        ),
        ([*retarget, "--prevalence", "0"], "strictly between 0 and 1, got '0'"),
        ([*retarget, "--prevalence", "1"], "strictly between 0 and 1, got '1'"),
        ([*retarget, "--prevalence", "-0.2"], "got '-0.2'"),
        ([*retarget, "--prevalence", "nan"], "got 'nan'"),
        ([*retarget, "--prevalence", "half"], "got 'half'"),
        ([*retarget, "--prevalence", "0.2,0.7"], "must sum to 1; got '0.2,0.7'"),
        ([*retarget, "--prevalence", "0.2,0.8"], "the model tunes class 1"),
        (
            [*retarget, "--prevalence", "0.2", "--method", "em"],
            "got --method em with --prevalence",
        ),
        ([*retarget, "--unlabelled", unlabelled, "--method", "mle"], "invalid choice"),
        ([*tune, "--prevalence", "1.5"], "strictly between 0 and 1, got '1.5'"),
        ([*tune, "--prevalence", "0.2,0.8"], "one number in (0, 1); got the list"),
        ([*pick, "--prevalence", "0"], "strictly between 0 and 1, got '0'"),
    ]
    for argv, message in cases:
        command = argv[0]
        code, out, err = run(capsys, *argv)
        assert code == 2, (argv, err)
        assert message in one_error(err, command), (argv, err)
        assert out == "" and not output.exists()


def test_data_errors_exit_1(capsys, tmp_path, data, files):
    _, _, X_new, _ = data
    output = tmp_path / "out.joblib"
    plain = tmp_path / "plain.joblib"
    joblib.dump(LogisticRegression().fit(X_new, np.arange(len(X_new)) % 2), plain)
    few = write_csv(tmp_path / "few.csv", FEATURES, X_new[:49])
    narrow = write_csv(tmp_path / "narrow.csv", FEATURES[:3], X_new[:, :3])
    gaps = write_csv(tmp_path / "gaps.csv", FEATURES, [["", *row[1:]] for row in X_new])
    cases = [
        ([files["lean"], "--prevalence", "0.2"], "fitted with retargetable=False"),
        ([files["default"], "--prevalence", "0.2"], "without --retargetable"),
        ([plain, "--prevalence", "0.2"], "holds a LogisticRegression, not a model"),
        ([tmp_path / "absent.joblib", "--prevalence", "0.2"], "cannot read model"),
        (
            [files["model"], "--unlabelled", few],
            "has 49 data rows; estimating the rate needs at least 50",
        ),
        (
            [files["model"], "--unlabelled", narrow],
            "lacks feature columns the model was fitted on: ['f3']",
        ),
        ([files["model"], "--unlabelled", gaps], "refuses missing values"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, "retarget", *argv, "--output", output)
        assert code == 1, (argv, err)
        assert message in one_error(err, "retarget"), (argv, err)
        assert out == "" and not output.exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_retarget_never_overwrites_an_input(capsys, tmp_path, files, spelling):
    # Copies, so that the links of one spelling stay out of the shared files.
    model = tmp_path / "model.joblib"
    model.write_bytes(files["model"].read_bytes())
    unlabelled = tmp_path / "rows.csv"
    unlabelled.write_bytes(files["unlabelled"].read_bytes())
    commands = [
        (model, [model, "--prevalence", "0.2"]),
        (model, [model, "--unlabelled", unlabelled]),
        (unlabelled, [model, "--unlabelled", unlabelled]),
    ]
    for victim, argv in commands:
        before = victim.read_bytes()
        output = SPELLINGS[spelling](victim)
        code, out, err = run(capsys, "retarget", *argv, "--output", output)
        assert code == 2, err
        line = one_error(err, "retarget")
        assert "refusing to overwrite an input" in line and str(victim) in line
        assert out == "" and victim.read_bytes() == before


def test_help_lists_retarget(capsys):
    assert main(["--help"]) == 0
    assert "retarget" in capsys.readouterr().out
    assert main(["retarget", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--unlabelled" in out and "--prevalence" in out and "--method" in out
    for command in ("tune", "pick"):
        assert main([command, "--help"]) == 0
        assert "--prevalence" in capsys.readouterr().out


def test_a_model_fitted_on_a_dataframe_reads_csv_columns_by_name(capsys, tmp_path):
    """Found by a review: retarget --unlabelled (and predict) printed
    scikit-learn's "X does not have valid feature names" for a model fitted
    on a DataFrame, though the CSV's columns are matched by name (here in
    another order); the results were, and are, those of the DataFrame."""
    pd = pytest.importorskip("pandas")
    X, y = make_classification(
        n_samples=600, n_features=3, n_informative=2, n_redundant=0, random_state=0
    )
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = ThresholdTunedClassifier(LogisticRegression(), retargetable=True)
    model.fit(frame, y)
    model_path = tmp_path / "model.joblib"
    joblib.dump(model, model_path)
    X_new, _ = make_classification(
        n_samples=300, n_features=3, n_informative=2, n_redundant=0, random_state=1
    )
    new = pd.DataFrame(X_new, columns=["a", "b", "c"])
    unlabelled = tmp_path / "new.csv"
    new[["c", "a", "b"]].to_csv(unlabelled, index=False)
    code, out, err = run(
        capsys, "retarget", model_path, "--unlabelled", unlabelled,
        "--output", tmp_path / "out.joblib", "--json",
    )  # fmt: skip
    assert code == 0 and err == ""
    assert json.loads(out)["threshold"] == model.retarget(X=new).threshold_
    code, out, err = run(capsys, "predict", model_path, unlabelled)
    assert code == 0 and err == ""
