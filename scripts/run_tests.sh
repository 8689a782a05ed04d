#!/usr/bin/env bash
# Run the whole test suite on every core (about 30 minutes at most on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
exec python -m pytest -n auto --dist loadfile -q tests "$@"
