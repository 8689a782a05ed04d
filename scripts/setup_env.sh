#!/usr/bin/env bash
# Make .venv (if missing) and install monai_mammo with every extra.
# torch 2.13.0 is pinned first because its CPU wheel is small; any torch>=2.4 works.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip setuptools wheel 2>&1 | grep -v "^WARNING: Location" || true
python -c "import torch" 2>/dev/null || python -m pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
python -m pip install -q -e ".[all]" 2>&1 | grep -v "^WARNING: Location" || true
python -c "import monai_mammo, torch, monai; print('monai_mammo', monai_mammo.__version__, '| torch', torch.__version__, '| monai', monai.__version__)"
