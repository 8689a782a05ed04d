"""Sphinx configuration of the monai_mammo docs (built with warnings as errors in CI)."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import monai_mammo

project = "monai_mammo"
author = "monai_mammo contributors"
copyright = "2026, monai_mammo contributors"
release = monai_mammo.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_nb",  # MyST markdown (it loads myst_parser) and the tutorial notebooks
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = False
exclude_patterns = ["_tables"]  # tables made by benchmarks/make_results_tables.py, included by results.md
suppress_warnings = ["myst.header"]

# The tutorials are shown with the outputs stored in them (made by `bash scripts/run_tutorials.sh --update`);
# the docs build never runs them. CI runs them in tests/tutorials.
nb_execution_mode = "off"
nb_merge_streams = True

# MONAI's docs theme
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = f"monai_mammo {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": []}


def _copy_tutorials() -> None:
    """Copy ``tutorials/*.ipynb`` into ``docs/source/tutorials/`` (Sphinx reads sources below this folder only).

    Only changed notebooks are copied (with their times), so an unchanged notebook is not rebuilt.
    """
    source = Path(__file__).resolve().parents[2] / "tutorials"
    target = Path(__file__).resolve().parent / "tutorials"
    target.mkdir(exist_ok=True)
    wanted = {p.name for p in source.glob("*.ipynb")}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for notebook in sorted(source.glob("*.ipynb")):
        copy = target / notebook.name
        if not copy.exists() or not filecmp.cmp(notebook, copy, shallow=False):
            shutil.copy2(notebook, copy)


_copy_tutorials()
