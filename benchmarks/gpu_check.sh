#!/usr/bin/env bash
# The GPU path in one command, within 8 minutes, on a machine with an NVIDIA GPU:
#   1. the Triton Lanczos kernels against the pure-PyTorch reference (forward, backward; float32, float16, bfloat16),
#   2. the blended sampler against bilinear grid_sample (forward + backward; goal: at most 1.5x),
#   3. each bundle (mammo_stn_classifier, mammo_srgan, breast_cross_transfer) for an epoch with mixed precision,
# written to benchmarks/results/gpu_check.json (see benchmarks/gpu_check.py). Usage, from anywhere:
#
#   bash benchmarks/gpu_check.sh [--skip-bundles] [--out FILE]
#
# Python: $PYTHON, else the project's .venv, else python3; it needs a CUDA build of torch (with Triton) and
# monai_mammo installed (pip install -e '.[all]' keeps the torch that is there). Without CUDA: one line, exit 2.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# the first of $PYTHON, .venv/bin/python and python3 whose torch sees a GPU and that imports monai_mammo
py=""
for candidate in "${PYTHON:-}" .venv/bin/python python3; do
    if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null &&
        "$candidate" -c "import sys, torch, monai_mammo; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
        py="$candidate"
        break
    fi
done
if [[ -z "$py" ]]; then
    echo "gpu_check: no CUDA GPU seen by a Python with torch and monai_mammo (\$PYTHON, .venv/bin/python, python3); nothing run." >&2
    exit 2
fi
# 8 minutes in all; each part is saved to the JSON when it ends, so a run cut short keeps what it measured
exec timeout --kill-after=15 480 "$py" benchmarks/gpu_check.py "$@"
