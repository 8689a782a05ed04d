"""``python -m monai_mammo``: see :mod:`monai_mammo.cli.main`."""

from __future__ import annotations

import sys

from monai_mammo.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
