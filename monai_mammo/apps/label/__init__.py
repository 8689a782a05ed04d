"""The MONAI Label app of monai_mammo: classification, super-resolution and cross-dimensional models of the bundles.

``APP_DIR`` is the folder ``monailabel start_server --app`` takes (its ``main.py`` holds the app class); importing
this package does not import ``monailabel``, an optional dependency (``pip install 'monai-mammo[label]'``, or
``bash scripts/setup_env.sh --label`` for its own environment ``.venv-label``). Start it with
``python -m monai_mammo label start --studies <folder | DICOMweb URL>``.
"""

from __future__ import annotations

from pathlib import Path

APP_DIR: Path = Path(__file__).resolve().parent
"""The app's folder, for ``monailabel start_server --app``."""

__all__ = ["APP_DIR"]
