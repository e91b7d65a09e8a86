"""Habits of a command line: --version, python -m, --debug, skops models,
progress on stderr, messages in the command's own terms, few positive calls."""

import importlib.metadata
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import write_csv
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import threshold_estimators
from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators._cli.common import in_command_terms
from threshold_estimators._cli.model import _is_library_type
from threshold_estimators.cli import _version, main
from threshold_estimators.objectives import (
    AlertBudget,
    InfeasibleTargetError,
    PrecisionTarget,
    RecallTarget,
)

# Names of the Python API that no command offers.
PYTHON_TERMS = re.compile(
    r"on_infeasible|selection=|confidence=|pos_label|classes_|min_precision|"
    r"min_recall|max_positive_rate|n_splits|Target\(|prevalence=|sample_weight"
)


def run(capsys, *argv):
    """``main(argv)``: exit code, stdout, stderr."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def lines_of(err, command, kind):
    return [
        line
        for line in err.splitlines()
        if line.startswith(f"threshold-estimators {command}: {kind}: ")
    ]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A CSV of 4 features and a 0/1 label, 300 rows, 30 % positive."""
    X, y = make_classification(
        n_samples=300,
        n_features=4,
        n_informative=3,
        n_redundant=1,
        weights=[0.7],
        random_state=0,
    )
    path = tmp_path_factory.mktemp("table") / "train.csv"
    header = ["f0", "f1", "f2", "f3", "target"]
    return write_csv(path, header, ([*x, t] for x, t in zip(X, y, strict=True)))


# --version, python -m


def test_version(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0 and err == ""
    assert out == _version() + "\n"
    version = threshold_estimators.__version__
    assert out.startswith(f"threshold-estimators {version} (scikit-learn ")
    # What runs is what is installed.
    assert importlib.metadata.version("threshold-estimators") == version


def test_version_from_the_console_script():
    script = Path(sys.executable).parent / "threshold-estimators"
    argv = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-m", "threshold_estimators"]
    )
    result = subprocess.run(
        [*argv, "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == _version() + "\n"


def test_python_dash_m_runs_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "threshold_estimators", "pick", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    # The program is named as the console script, not __main__.py.
    assert result.stdout.startswith("usage: threshold-estimators pick ")
    assert "--objective OBJ" in result.stdout and result.stderr == ""


# --debug


def test_debug_adds_the_traceback(capsys, tmp_path):
    absent = tmp_path / "absent.csv"
    pick = ["pick", absent, "--label", "y", "--score", "s"]
    message = f"cannot read {absent}: No such file or directory."
    code, _, err = run(capsys, *pick)
    assert code == 1 and err == f"threshold-estimators pick: error: {message}\n"
    for argv in (["--debug", *pick], [*pick, "--debug"]):
        code, out, err = run(capsys, *argv)
        lines = err.splitlines()
        assert code == 1 and out == ""
        assert lines[0] == f"threshold-estimators pick: error: {message}"
        assert lines[1] == "Traceback (most recent call last):"
        assert lines[-1].endswith(f"DataError: {message}")
    # A usage error keeps its exit code, 2.
    same = ["pick", absent, "--label", "y", "--score", "y"]
    code, _, err = run(capsys, *same)
    assert code == 2 and "Traceback" not in err
    code, _, err = run(capsys, "--debug", *same)
    assert code == 2 and "Traceback (most recent call last):" in err
    assert "UsageError: --label and --score name the same column" in err


# Progress of tune on stderr


def test_tune_verbose_reports_folds_on_stderr_and_keeps_stdout_json(
    capsys, tmp_path, table
):
    output = tmp_path / "m.joblib"
    argv = ["tune", table, "--label", "target", "--cv", "3", "--output", output]
    code, out, err = run(capsys, *argv, "--json", "-v")
    assert code == 0
    report = json.loads(out)  # one JSON object, nothing else
    assert out.count("\n") == 1 and set(report) >= {"threshold", "f1"}
    folds = re.findall(
        r"^\[ThresholdTunedClassifier\] fold (\d)/3 fitted in", err, re.M
    )
    assert sorted(folds) == ["1", "2", "3"]
    assert "[ThresholdTunedClassifier] refit on all 300 rows in " in err
    assert f"threshold {report['threshold']:.6g} (F1: " in err
    # The saved model fits quietly, as one fitted in Python by default.
    assert joblib.load(output).get_params()["verbose"] == 0


def test_tune_progress_by_default_only_on_a_terminal(
    capsys, monkeypatch, tmp_path, table
):
    argv = ["tune", table, "--label", "target", "--cv", "2"]
    code, _, err = run(capsys, *argv, "--output", tmp_path / "a.joblib")
    assert code == 0 and "reading" in err
    assert "[ThresholdTunedClassifier]" not in err  # a log file, a pipe
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = run(capsys, *argv, "--output", tmp_path / "b.joblib")
    assert code == 0 and "[ThresholdTunedClassifier] fold 2/2 fitted in" in err
    # --json asks for quiet, even on a terminal.
    code, out, err = run(capsys, *argv, "--output", tmp_path / "c.joblib", "--json")
    assert code == 0 and err == "" and json.loads(out)


def test_tune_help_documents_the_progress(capsys):
    main(["tune", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "-v, --verbose" in help_text
    assert "only when stderr is a terminal" in help_text


# skops models


class OutsideClassifier(LogisticRegression):
    """An estimator of another package, as far as a skops file can tell."""


OUTSIDE = f"{OutsideClassifier.__module__}.{OutsideClassifier.__qualname__}"


def test_tune_writes_skops_and_predict_reads_it(capsys, tmp_path, table):
    sio = pytest.importorskip("skops.io")
    argv = ["tune", table, "--label", "target", "--model", "hgb", "--json"]
    assert run(capsys, *argv, "--output", tmp_path / "m.joblib")[0] == 0
    code, out, _ = run(capsys, *argv, "--output", tmp_path / "m.skops")
    assert code == 0 and json.loads(out)["output"] == str(tmp_path / "m.skops")
    assert zipfile.is_zipfile(tmp_path / "m.skops")
    asked = sio.get_untrusted_types(file=tmp_path / "m.skops")
    assert "threshold_estimators._classifier.ThresholdTunedClassifier" in asked
    assert all(_is_library_type(name) for name in asked)
    predictions = {}
    for name in ("m.joblib", "m.skops"):
        code, out, err = run(capsys, "predict", tmp_path / name, table, "--proba")
        assert code == 0 and err == ""
        predictions[name] = out
    assert predictions["m.skops"] == predictions["m.joblib"]
    assert predictions["m.skops"].startswith("prediction,proba_0,proba_1\n")
    # A skops file is recognised by its content, whatever its name.
    (tmp_path / "m.model").write_bytes((tmp_path / "m.skops").read_bytes())
    code, out, _ = run(capsys, "predict", tmp_path / "m.model", table, "--proba")
    assert code == 0 and out == predictions["m.joblib"]


def test_predict_refuses_types_of_other_packages_unless_trusted(
    capsys, tmp_path, table
):
    sio = pytest.importorskip("skops.io")
    X = np.loadtxt(table, delimiter=",", skiprows=1)
    model = ThresholdTunedClassifier(OutsideClassifier()).fit(X[:, :4], X[:, 4])
    model.feature_names_in_ = np.array(["f0", "f1", "f2", "f3"], dtype=object)
    sio.dump(model, tmp_path / "outside.skops")
    code, out, err = run(capsys, "predict", tmp_path / "outside.skops", table)
    (line,) = lines_of(err, "predict", "error")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert f"['{OUTSIDE}']" in line and f"--trust {OUTSIDE}" in line
    code, out, err = run(
        capsys, "predict", tmp_path / "outside.skops", table, "--trust", OUTSIDE
    )
    assert code == 0 and err == ""
    expected = [str(float(p)) for p in model.predict(X[:, :4])]  # labels 0.0, 1.0
    assert out.splitlines() == ["prediction", *expected]


def test_library_types_are_judged_where_they_are_defined():
    for name in (
        "threshold_estimators._classifier.ThresholdTunedClassifier",
        "threshold_estimators.objectives.F1",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.metrics._classification.fbeta_score",
        "numpy.float64",
    ):
        assert _is_library_type(name), name
    for name in (
        "os.system",
        "builtins.eval",
        OUTSIDE,
        # inspect.signature, imported into a scikit-learn module: not its own.
        "sklearn.utils._param_validation.signature",
        "sklearn.base.copy",  # a module, not a class or function
        "sklearn.no_such_module.Thing",
        "threshold_estimators.__main__.main",
    ):
        assert not _is_library_type(name), name


def test_skops_errors_are_one_line(capsys, monkeypatch, tmp_path, table):
    pytest.importorskip("skops.io")
    fake = tmp_path / "fake.skops"
    fake.write_text("not a zip\n")
    code, _, err = run(capsys, "predict", fake, table)
    (line,) = lines_of(err, "predict", "error")
    assert code == 1 and f"{fake} is not a model file written by skops" in line
    # Without skops: the extra to install, for reading and for writing.
    monkeypatch.setitem(sys.modules, "skops.io", None)
    code, _, err = run(capsys, "predict", fake, table)
    (line,) = lines_of(err, "predict", "error")
    assert code == 1 and 'pip install "threshold-estimators[persist]"' in line
    output = tmp_path / "m.skops"
    argv = ["tune", table, "--label", "target", "--output", output, "--json"]
    code, _, err = run(capsys, *argv)
    (line,) = lines_of(err, "tune", "error")
    assert code == 1 and 'pip install "threshold-estimators[persist]"' in line
    assert not output.exists()


def test_retarget_reads_and_writes_skops(capsys, tmp_path, table):
    pytest.importorskip("skops.io")
    model = tmp_path / "m.skops"
    argv = ["tune", table, "--label", "target", "--retargetable", "--json"]
    assert run(capsys, *argv, "--output", model)[0] == 0
    new = tmp_path / "new.skops"
    argv = ["retarget", model, "--prevalence", "0.1", "--output", new, "--json"]
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == "" and zipfile.is_zipfile(new)
    code, _, err = run(capsys, "predict", new, table)
    assert code == 0 and err == "" and json.loads(out)["prevalence"] == 0.1


# Messages in the command's terms


def test_library_refusals_in_the_command_line_terms():
    """The library's messages that name its Python options, as each command
    puts them (the library's own wording is checked first: if it changes,
    the translation must follow)."""
    y = np.array([0, 1, 0, 1, 0, 0, 1, 0])
    score = np.linspace(1, 0, 8)
    cases = [
        (PrecisionTarget(0.99), "Lower the target P."),
        (
            PrecisionTarget(0.99, confidence=0.9),
            "Lower the target P or the confidence C.",
        ),
        (
            RecallTarget(0.99, confidence=0.99),
            "Lower the target R or the confidence C.",
        ),
        (
            AlertBudget(0.5, min_precision=0.99),
            "Lower the floors (P, Q) or raise the budget R.",
        ),
    ]
    for objective, remedy in cases:
        with pytest.raises(InfeasibleTargetError) as caught:
            pick_threshold(y, score, objective)
        message = str(caught.value)
        assert "on_infeasible='warn'" in message and "out-of-fold" in message
        for command in ("pick", "tune"):
            text = in_command_terms(message, command)
            assert not PYTHON_TERMS.search(text), text
            assert text.endswith(remedy), text
        assert "on these scores" in in_command_terms(message, "pick")
        assert "out-of-fold" not in in_command_terms(message, "pick")
        assert "on the out-of-fold data" in in_command_terms(message, "tune")


def test_messages_reachable_from_each_command(capsys, tmp_path, table):
    rng = np.random.default_rng(0)
    score = rng.random(200).round(3)
    y = (rng.random(200) < 0.5 * score).astype(int)
    scores = write_csv(tmp_path / "s.csv", ["y", "s"], zip(y, score, strict=True))
    pick = ["pick", scores, "--label", "y", "--score", "s", "--objective"]
    tune = ["tune", table, "--label", "target", "--json", "--output", tmp_path / "m"]
    X, target = make_classification(
        n_samples=300,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    every_class = ThresholdTunedClassifier(LogisticRegression()).fit(X, target)
    every_class.feature_names_in_ = np.array(["f0", "f1", "f2", "f3"], dtype=object)
    joblib.dump(every_class, tmp_path / "mc.joblib")
    retarget = ["retarget", tmp_path / "mc.joblib", "--output", tmp_path / "n.joblib"]
    cases = [
        ([*pick, "precision>=0.99@0.9"], 1, "Lower the target P or the confidence C."),
        ([*pick, "recall>=1@0.99"], 1, "Lower the target R or the confidence C."),
        ([*pick, "rate<=0.05,precision>=0.99"], 0, None),
        ([*pick, "rate<=0.2,recall>=0.9"], 1, "or raise the budget R."),
        ([*pick, "rate<=0.001@0.95"], 1, "Raise R, lower C, or"),
        ([*pick, "precision>=0.99"], 0, "--objective 'precision>=0.99@0.9'"),
        ([*tune, "--objective", "precision>=0.99@0.95"], 1, "Lower the target P"),
        ([*tune, "--objective", "precision>=0.999"], 1, "Lower the target P."),
        ([*tune, "--objective", "precision>=0.9"], 0, "or tune on more rows."),
        ([*tune, "--cv", "100"], 0, "which is less than --cv 100."),
        ([*retarget, "--prevalence", "0.3"], 2, "in sorted class order [0, 1, 2]"),
    ]
    for argv, code, expected in cases:
        got, _, err = run(capsys, *argv)
        assert got == code, (argv, err)
        assert not PYTHON_TERMS.search(err), (argv, err)
        if argv[0] == "pick":
            # pick reads scores already made: no fold, nothing out of fold.
            assert "out-of-fold" not in err and "tune on" not in err, err
        if expected is not None:
            assert expected in err, (argv, err)
        assert all(
            line.startswith("threshold-estimators ") for line in err.splitlines()
        )


# Few positive calls


@pytest.fixture
def one_call(tmp_path):
    """Scores whose cut for precision >= 0.5 calls one row positive: the top
    row is positive, and below it fewer than half of any top rows are."""
    y = [1] + [0, 0, 0, 1] * 50
    score = np.linspace(1, 0, len(y))
    return write_csv(tmp_path / "one.csv", ["y", "s"], zip(y, score, strict=True))


@pytest.fixture
def handful(tmp_path):
    """Five sure positives on top of 300 rows 2 % positive."""
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(5, int), (rng.random(300) < 0.02).astype(int)]
    score = np.r_[np.linspace(0.99, 0.95, 5), rng.random(300) * 0.9].round(6)
    return write_csv(tmp_path / "few.csv", ["y", "s"], zip(y, score, strict=True))


def test_pick_warns_of_a_cut_on_one_positive_call(capsys, one_call):
    argv = ["pick", one_call, "--label", "y", "--score", "s", "--json"]
    code, out, err = run(capsys, *argv, "--objective", "precision>=0.5")
    report = json.loads(out)
    assert code == 0 and report["tp"] + report["fp"] == 1
    (line,) = err.splitlines()  # one line, with the count
    assert line.startswith("threshold-estimators pick: warning: The cut 0.9975 rests")
    assert "rests on 1 scored positive call: its precision, 1 on it," in line
    assert "fewer than 30" in line
    assert "--objective 'precision>=0.5@0.9'" in line
    assert "label and score more rows" in line and "PrecisionTarget" not in line
    # With --debug, the warning names its kind.
    code, out, err = run(capsys, *argv, "--objective", "precision>=0.5", "--debug")
    assert "[LowSupportWarning at " in err


@pytest.mark.parametrize("objective", ["f1", "cost:fp=10,fn=1", "threshold:0.95"])
def test_pick_warns_of_few_calls_for_any_objective(capsys, handful, objective):
    argv = ["pick", handful, "--label", "y", "--score", "s", "--json"]
    code, out, err = run(capsys, *argv, "--objective", objective)
    report = json.loads(out)
    calls = report["tp"] + report["fp"]
    assert code == 0 and 0 < calls < 30
    (line,) = lines_of(err, "pick", "warning")
    assert f"rests on {calls} scored positive calls: its precision, " in line
    assert "fewer than 30 rows positive" in line
    assert "--objective 'precision>=P@C'" in line


def test_no_warning_on_enough_calls_or_with_a_confidence(capsys, handful, one_call):
    argv = ["pick", handful, "--label", "y", "--score", "s", "--json"]
    code, out, err = run(capsys, *argv, "--objective", "threshold:0.5")
    assert code == 0 and json.loads(out)["fp"] >= 30 and err == ""
    # A budget sets its number of calls itself: no warning.
    code, out, err = run(capsys, *argv, "--objective", "rate<=0.02")
    assert code == 0 and json.loads(out)["tp"] + json.loads(out)["fp"] < 30
    assert err == ""
    # A bound accounts for the count: no warning.
    argv = ["pick", one_call, "--label", "y", "--score", "s", "--json"]
    code, out, err = run(capsys, *argv, "--objective", "recall>=0.02@0.9")
    assert code == 0 and json.loads(out)["tp"] + json.loads(out)["fp"] < 30
    assert err == ""


def test_tune_warns_of_few_out_of_fold_calls(capsys, tmp_path, table):
    argv = ["tune", table, "--label", "target", "--objective", "cost:fp=5,fn=1"]
    lean, kept = tmp_path / "lean.joblib", tmp_path / "kept.joblib"
    code, out, err = run(capsys, *argv, "--output", lean, "--json")
    report = json.loads(out)
    calls = report["tp"] + report["fp"]
    assert code == 0 and 0 < calls < 30
    (line,) = lines_of(err, "tune", "warning")
    assert f"rests on {calls} out-of-fold positive call" in line
    assert "Tune on more rows" in line
    # The rows counted are not kept unless --retargetable asks for them.
    code, _, _ = run(capsys, *argv, "--output", kept, "--json", "--retargetable")
    saved, retargetable = joblib.load(lean), joblib.load(kept)
    assert saved.out_of_fold_ is None and not saved.get_params()["retargetable"]
    assert retargetable.out_of_fold_ is not None
    assert retargetable.get_params()["retargetable"]
    assert saved.threshold_ == retargetable.threshold_ == report["threshold"]
