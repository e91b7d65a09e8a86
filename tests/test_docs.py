"""The documentation site builds in strict mode, every example runs, the code on
its pages runs, and every guide page can be reached from the front page.

The build works on a copy of ``docs/`` in a temporary directory: Sphinx and
sphinx-gallery write generated pages (``auto_examples/``, ``generated/``, ...) into
their source directory, and the test must leave the work tree as it found it.
"""

import ast
import contextlib
import io
import posixpath
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

DOCS = Path(__file__).resolve().parents[1] / "docs"
# Outputs of earlier local builds, never sources.
GENERATED = ("_build", "auto_examples", "gen_modules", "generated", "sg_*.rst")
EXAMPLES = sorted(DOCS.glob("examples/plot_*.py"))
GUIDE_PAGES = sorted(
    path.stem for path in DOCS.glob("guide/*.md") if path.stem != "index"
)
# The front page's figure: drawn by this example when the site is built.
FRONT_FIGURE_EXAMPLE = DOCS / "examples" / "plot_0_default_vs_tuned_cut.py"
FRONT_FIGURE = f"sphx_glr_{FRONT_FIGURE_EXAMPLE.stem}_001.png"
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


def python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M)


def executed_pages():
    """The pages whose code docs/conf.py runs at build time (``executed_pages``),
    read without running conf.py."""
    tree = ast.parse((DOCS / "conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(target, "id", None) == "executed_pages" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py defines no executed_pages")


def test_getting_started_code_runs():
    blocks = python_blocks(DOCS / "getting_started.md")
    assert blocks
    for block in blocks:
        exec(compile(block, "getting_started.md", "exec"), {})


def test_front_page_example_is_four_lines_that_run():
    blocks = python_blocks(DOCS / "index.md")
    assert len(blocks) == 1
    lines = [line for line in blocks[0].splitlines() if line.strip()]
    # import, construct with an objective, fit, predict
    assert len(lines) == 4, lines
    # The names the page says the reader brings.
    X, y = make_classification(
        n_samples=4_000, n_informative=6, weights=[0.85], class_sep=1.1, random_state=0
    )
    namespace = {
        "clf": LogisticRegression(),
        "X_train": X[:3_000],
        "y_train": y[:3_000],
        "X_test": X[3_000:],
    }
    exec(compile(blocks[0], "index.md", "exec"), namespace)
    model, y_pred = namespace["model"], namespace["y_pred"]
    assert y_pred.shape == (1_000,)
    assert model.threshold_ > 0.5  # moved from the default cut, for precision


@pytest.mark.slow
def test_pages_executed_at_build_time_run():
    """What conf.py runs while building, run here without Sphinx: the blocks of a
    page in order, in one namespace."""
    pages = executed_pages()
    assert "guide/from_sklearn" in pages
    for page in pages:
        path = DOCS / f"{page}.md"
        namespace = {"__name__": "__main__"}
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            for block in python_blocks(path):
                exec(compile(block, str(path), "exec"), namespace)
        assert printed.getvalue(), page


def test_from_sklearn_page_maps_every_parameter_and_attribute():
    from sklearn.model_selection import (
        FixedThresholdClassifier,
        TunedThresholdClassifierCV,
    )

    text = (DOCS / "guide" / "from_sklearn.md").read_text()
    # The names in the first cell of each row of the page's tables.
    first_cells = re.findall(r"^\| ([^|]*?) \|", text, flags=re.M)
    mapped = {name for cell in first_cells for name in re.findall(r"`(\w+)", cell)}
    mapped |= {name for cell in first_cells for name in re.findall(r"`([^`]+)`", cell)}
    tuned = TunedThresholdClassifierCV(LogisticRegression()).get_params(deep=False)
    fixed = FixedThresholdClassifier(LogisticRegression()).get_params(deep=False)
    assert set(tuned) | set(fixed) <= mapped, (set(tuned) | set(fixed)) - mapped
    attributes = {
        "best_threshold_",
        "best_score_",
        "estimator_",
        "classes_",
        "n_features_in_",
        "feature_names_in_",
        'cv_results_["thresholds"]',
        'cv_results_["scores"]',
    }
    assert attributes <= mapped, attributes - mapped


def test_examples_follow_the_gallery_format():
    assert len(EXAMPLES) >= 4
    assert FRONT_FIGURE_EXAMPLE in EXAMPLES
    for path in EXAMPLES:
        lines = path.read_text().splitlines()
        # A module docstring opening on the title, underlined with "=".
        assert lines[0] == '"""', path.name
        assert lines[2] == "=" * len(lines[1]), path.name
        assert "# %%" in lines, path.name


class _Links(HTMLParser):
    """The targets of a page's links, as paths from the site's root."""

    def __init__(self, page):
        super().__init__()
        self.folder = posixpath.dirname(page)
        self.links = set()
        self.images = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.add(self._resolve(attrs["href"]))
        if tag == "img" and attrs.get("src"):
            self.images.add(self._resolve(attrs["src"]))

    def _resolve(self, url):
        url = url.split("#")[0] or "."
        if "://" in url:
            return url
        return posixpath.normpath(posixpath.join(self.folder, url))


def page_links(html, page):
    parser = _Links(page)
    parser.feed((html / page).read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once for the tests below."""
    pytest.importorskip(
        "sphinx", reason='Sphinx is not installed: pip install -e ".[docs]"'
    )
    tmp_path = tmp_path_factory.mktemp("docs")
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns(*GENERATED))
    html = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    command += ["-d", str(tmp_path / "doctrees"), str(source), str(html)]
    build = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert build.returncode == 0, (build.stdout[-3000:], build.stderr[-5000:])
    return html


@pytest.mark.slow
def test_docs_build_strict_with_every_example(site):
    html = site
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


@pytest.mark.slow
def test_front_page_shows_the_figure_drawn_at_build_time(site):
    figure = site / "_images" / FRONT_FIGURE
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"_images/{FRONT_FIGURE}" in page_links(site, "index.html").images


@pytest.mark.slow
def test_every_guide_page_is_reachable_from_the_front_page(site):
    assert len(GUIDE_PAGES) >= 11
    front = page_links(site, "index.html").links
    guide = page_links(site, "guide/index.html").links
    assert "guide/index.html" in front
    for stem in GUIDE_PAGES:
        page = f"guide/{stem}.html"
        assert (site / page).is_file(), page
        assert page in front, f"the front page does not link {page}"
        assert page in guide, f"the guide's table of contents does not list {page}"


@pytest.mark.slow
def test_executed_pages_show_this_builds_output(site):
    for page in executed_pages():
        text = (site / f"{page}.html").read_text(encoding="utf-8")
        assert "when this page was built" in text, page
    from_sklearn = (site / "guide" / "from_sklearn.html").read_text(encoding="utf-8")
    assert f"scikit-learn {sklearn.__version__}" in from_sklearn
