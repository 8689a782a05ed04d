#!/usr/bin/env bash
# Run the whole test suite on every core (about 30 minutes at most on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
python -m pytest -n auto --dist loadfile -q tests "$@"
# the MONAI Label app's tests need monailabel, which lives in its own environment (scripts/setup_env.sh --label)
if [ -x .venv-label/bin/python ]; then
  exec .venv-label/bin/python -m pytest -p no:xdist -q -m label tests/apps/label
fi
echo "MONAI Label tests not run: no .venv-label (bash scripts/setup_env.sh --label makes it)"
