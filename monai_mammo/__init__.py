# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""monai_mammo: a MONAI plugin for breast imaging (mammography and breast ultrasound).

Importing the package changes no global state: no warning filters, no seeds, no downloads.
Sub-packages follow one import order: ``utils`` -> ``data``/``transforms`` -> ``networks`` ->
``losses`` -> ``engines``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
