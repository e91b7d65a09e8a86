"""The command line, run as a user would."""

import subprocess
import sys
import time

from threshold_estimators.cli import main


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
