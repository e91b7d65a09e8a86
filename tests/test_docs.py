"""The documentation site builds in strict mode, and every example runs.

The build works on a copy of ``docs/`` in a temporary directory: Sphinx and
sphinx-gallery write generated pages (``auto_examples/``, ``generated/``, ...) into
their source directory, and the test must leave the work tree as it found it.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
# Outputs of earlier local builds, never sources.
GENERATED = ("_build", "auto_examples", "gen_modules", "generated", "sg_*.rst")
EXAMPLES = sorted(DOCS.glob("examples/plot_*.py"))
API = (
    "threshold_estimators.ThresholdTunedClassifier",
    "threshold_estimators.PiecewiseLogisticCalibrator",
    "threshold_estimators.objectives.F1",
    "threshold_estimators.objectives.FBeta",
    "threshold_estimators.objectives.PrecisionTarget",
    "threshold_estimators.objectives.RecallTarget",
    "threshold_estimators.objectives.CostMatrix",
    "threshold_estimators.plotting.ThresholdCurveDisplay",
    "threshold_estimators.keras.KerasProbabilisticClassifier",
)


def test_getting_started_code_runs():
    text = (DOCS / "getting_started.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "getting_started.md", "exec"), {})


def test_examples_follow_the_gallery_format():
    assert len(EXAMPLES) >= 4
    for path in EXAMPLES:
        lines = path.read_text().splitlines()
        # A module docstring opening on the title, underlined with "=".
        assert lines[0] == '"""', path.name
        assert lines[2] == "=" * len(lines[1]), path.name
        assert "# %%" in lines, path.name


@pytest.mark.slow
def test_docs_build_strict_with_every_example(tmp_path):
    pytest.importorskip(
        "sphinx", reason='Sphinx is not installed: pip install -e ".[docs]"'
    )
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns(*GENERATED))
    html = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    command += ["-d", str(tmp_path / "doctrees"), str(source), str(html)]
    build = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert build.returncode == 0, (build.stdout[-3000:], build.stderr[-5000:])

    for example in EXAMPLES:
        # sphinx-gallery ran the script: its page exists and holds its figures.
        assert (html / "auto_examples" / f"{example.stem}.html").is_file()
        figures = html / "_images"
        assert list(figures.glob(f"sphx_glr_{example.stem}_0*.png")), example.name
    for name in API:
        page = html / "generated" / f"{name}.html"
        assert page.is_file(), name
        assert f'id="{name}"' in page.read_text(encoding="utf-8"), name
    for page in ("index", "getting_started", "api", "benchmarks", "guide/index"):
        assert (html / f"{page}.html").is_file(), page
