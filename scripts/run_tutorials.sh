#!/usr/bin/env bash
# Run the tutorial notebooks (tutorials/*.ipynb).
#
#   bash scripts/run_tutorials.sh                  run every notebook, store nothing (what CI does, through pytest)
#   bash scripts/run_tutorials.sh --update         run every notebook and store its outputs in it (the pictures the
#                                                  docs and GitHub show); prints each notebook's time
#   bash scripts/run_tutorials.sh --update 04_lanczos_spatial_transformer   only the notebooks named
#
# Every notebook runs in a kernel of .venv; 08 starts the MONAI Label server with .venv-label/bin/python and
# needs Orthanc (bash scripts/setup_env.sh --label; apt-get install orthanc orthanc-dicomweb).
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
names=()
for arg in "$@"; do
    case "$arg" in
        --update) update=1 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        -*) echo "error: unknown option $arg (expected --update or notebook names)" >&2; exit 2 ;;
        *) names+=("$(basename "${arg%.ipynb}")") ;;
    esac
done

python=.venv/bin/python
[ -x "$python" ] || { echo "error: $python not found; run bash scripts/setup_env.sh first" >&2; exit 2; }

if [ "$update" = 0 ]; then
    filter=()
    if [ "${#names[@]}" -gt 0 ]; then
        filter=(-k "$(printf ' or %s' "${names[@]}" | cut -c5-)")
    fi
    exec "$python" -m pytest -q -p no:xdist -s tests/tutorials "${filter[@]}"
fi

notebooks=()
if [ "${#names[@]}" -gt 0 ]; then
    for name in "${names[@]}"; do
        [ -f "tutorials/$name.ipynb" ] || { echo "error: tutorials/$name.ipynb not found" >&2; exit 2; }
        notebooks+=("tutorials/$name.ipynb")
    done
else
    notebooks=(tutorials/*.ipynb)
fi

# execute each notebook with the test's runner and write it back with its new outputs
"$python" - "${notebooks[@]}" <<'EOF'
import importlib.util
import sys
import time
from pathlib import Path

import nbformat

spec = importlib.util.spec_from_file_location("test_notebooks", "tests/tutorials/test_notebooks.py")
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
total = time.perf_counter()
for name in sys.argv[1:]:
    path = Path(name)
    start = time.perf_counter()
    nb = runner.execute_notebook(path)
    nbformat.write(nb, path)
    print(f"{path}: {time.perf_counter() - start:.0f} s, outputs stored", flush=True)
print(f"all stored in {time.perf_counter() - total:.0f} s")
EOF
