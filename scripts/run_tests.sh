#!/usr/bin/env bash
# Run the whole test suite (about 30 minutes at most on 2 cores): the tests and the tutorial notebooks in .venv,
# then the MONAI Label app's tests in .venv-label (bash scripts/setup_env.sh --label makes it; under CI=true it must
# exist). Arguments go to the first pytest, e.g. `bash scripts/run_tests.sh -k reader`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "error: no .venv; run bash scripts/setup_env.sh first" >&2; exit 2; }
.venv/bin/python -m pytest -n auto --dist loadfile -q tests "$@"
if [ -x .venv-label/bin/python ]; then
  exec .venv-label/bin/python -m pytest -p no:xdist -q -m label tests/apps/label
fi
if [ "${CI:-}" = "true" ]; then
  echo "error: CI=true but no .venv-label, so the MONAI Label tests cannot run (bash scripts/setup_env.sh --label)" >&2
  exit 1
fi
echo "MONAI Label tests not run: no .venv-label (bash scripts/setup_env.sh --label makes it)"
