"""Sphinx configuration of the monai_mammo docs (built with warnings as errors in CI)."""

from __future__ import annotations

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
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = False
html_theme = "alabaster"
html_static_path = ["_static"]
exclude_patterns = ["_tables"]  # tables made by benchmarks/make_results_tables.py, included by results.md
suppress_warnings = ["myst.header"]
