"""Sphinx configuration of the threshold_estimators documentation.

Build (offline, warnings are errors) from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Sphinx + numpydoc + sphinx-gallery + myst-parser: the docstrings are numpydoc, as in
scikit-learn, and sphinx-gallery executes the examples and renders their figures
(scikit-learn's own toolchain); myst-parser keeps the user guide in Markdown. The
Python blocks of the pages listed in ``executed_pages`` run at build time, and their
output is shown under them.
"""

import contextlib
import io
import os
import re
from datetime import date

# The Keras example needs a backend chosen before anything imports keras; JAX is
# the one the [keras] extra installs. A backend set by the user wins.
os.environ.setdefault("KERAS_BACKEND", "jax")
# Figures are rendered without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

import threshold_estimators

project = "threshold_estimators"
author = "threshold_estimators developers"
copyright = f"{date.today().year}, {author}"
release = threshold_estimators.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# The example scripts are sources of sphinx-gallery, not of Sphinx: its output in
# auto_examples/ is what Sphinx reads.
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]

# No intersphinx: the build must not need the network. References to numpy,
# scikit-learn, ... render as plain code (they only warn in nitpicky mode).

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters section already has the types
# As in scikit-learn: the members are listed by the class template, not by numpydoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Inherited scikit-learn methods (get_params, score, set_fit_request, ...) keep their
# docstrings, whose :ref: and :term: roles point into scikit-learn's own user guide;
# without intersphinx those targets do not exist here, so they become plain text.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]+?)(?:\s*<[^`>]*>)?`")


def _plain_sklearn_references(app, what, name, obj, options, lines):
    if not (getattr(obj, "__module__", None) or "").startswith("sklearn."):
        return
    lines[:] = [_SKLEARN_ROLE.sub(r"\1", line) for line in lines]


# -- pages whose code runs at build time --------------------------------------
# The Python blocks of these pages run when Sphinx reads them, in order and in one
# namespace per page (as the cells of a notebook), and what a block prints is shown
# under it: the numbers such a page quotes are this build's, never typed in. A block
# that raises stops the build. tests/test_docs.py also runs them without Sphinx.
executed_pages = ("guide/from_sklearn",)
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```\n", flags=re.S | re.M)
_OUTPUT_CAPTION = "Output of the code above, when this page was built"


def _run_python_blocks(app, docname, source):
    if docname not in executed_pages:
        return
    filename = str(app.env.doc2path(docname))
    namespace = {"__name__": "__main__"}

    def run(block):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block[1], filename, "exec"), namespace)
        output = printed.getvalue()
        if not output:
            return block[0]
        fence = f"```{{code-block}} text\n:caption: {_OUTPUT_CAPTION}\n\n"
        return f"{block[0]}\n{fence}{output.rstrip()}\n```\n"

    source[0] = _PYTHON_BLOCK.sub(run, source[0])


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_references)
    app.connect("source-read", _run_python_blocks)


# -- myst ---------------------------------------------------------------------
# The guides link to each other's sections (objectives.md -> exact_search.md#...).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "dollarmath"]

# -- sphinx-gallery -----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    # Every plot_*.py is executed at each build: the docs test relies on it.
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("threshold_estimators",),
    "backreferences_dir": "gen_modules/backreferences",
    # Link names in the example code to the local API pages only (no inventory
    # is downloaded for numpy or scikit-learn).
    "reference_url": {"threshold_estimators": None},
    "remove_config_comments": True,
    "download_all_examples": False,
    "min_reported_time": 1,
    # The timing page loads its table scripts from CDNs: keep the site self-contained
    # (the build log still prints each example's run time).
    "write_computation_times": False,
}

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"threshold_estimators {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = False
html_last_updated_fmt = None
