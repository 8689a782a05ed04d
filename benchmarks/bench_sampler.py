"""Benchmark: Lanczos-3 blended sampler against bilinear ``grid_sample``, forward plus backward w.r.t. theta.

For each size (8x1x256x256 and 8x1x512x512 by default) it times one spatial-transformer sampling step,
``out = sampler(x, F.affine_grid(theta))`` followed by ``out.backward(g)`` with ``theta.requires_grad``, for
(a) bilinear ``F.grid_sample`` and (b) :class:`~monai_mammo.networks.layers.BlendedSampler` (Lanczos-3 blended
with bilinear, the path users get: ``backend="auto"``). Warm-up runs (numba compilation included) are
excluded; the two steps alternate (so that both see the same background load) and the figures are the
median of ``--repeats`` runs (wall-clock; also the minima of wall-clock and process CPU time, the figures
least disturbed by other processes on a shared machine).

Peak extra memory: ``tracemalloc`` does not see torch's allocations, so the Linux peak resident set size is
used: ``/proc/self/clear_refs`` resets ``VmHWM``, one step runs, and ``VmHWM - VmRSS(before)`` is the step's
peak. glibc's mmap threshold is pinned at 128 KiB (``mallopt``), so tensors of that size or more are mapped
and unmapped with their lifetime and the peak counts the step's live tensors. "Extra" is blended's peak
minus bilinear's peak, reported also as a multiple of the output size.

Usage::

    python benchmarks/bench_sampler.py [--sizes 256 512] [--batch 8] [--repeats 7] [--threads N]
        [--out benchmarks/results/bench_sampler.json]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from monai_mammo.networks.layers import BlendedSampler, select_backend
from monai_mammo.utils import atomic_write_text

THETA = [[0.9, 0.12, 0.05], [-0.1, 0.85, -0.03]]  # a mild rotation, anisotropic zoom and shift


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _fix_mmap_threshold() -> None:
    """Make glibc serve every allocation above 128 KiB by mmap (no dynamic threshold), so RSS follows tensors."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _peak_extra_bytes(step: Callable[[], None]) -> int | None:
    """Peak resident memory of one ``step`` above the resident memory before it (Linux only)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    before = _status_kib("VmRSS")
    step()
    peak = _status_kib("VmHWM")
    if before is None or peak is None:
        return None
    return (peak - before) * 1024


def _time(steps: dict[str, Callable[[], None]], repeats: int, warmup: int) -> dict[str, dict[str, float]]:
    """Median and minimum wall-clock and CPU time per step; the steps alternate so that they share the load."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    wall: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {
        name: {
            "wall": statistics.median(wall[name]),
            "wall_min": min(wall[name]),
            "cpu": statistics.median(cpu[name]),
            "cpu_min": min(cpu[name]),
        }
        for name in steps
    }


def bench(size: int, batch: int, repeats: int, warmup: int) -> dict:
    torch.manual_seed(0)
    x = torch.rand(batch, 1, size, size)
    theta0 = torch.tensor(THETA).expand(batch, 2, 3).contiguous()
    grad_out = torch.randn(batch, 1, size, size)
    blended = BlendedSampler(a=3)

    def run(sampler: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[[], None]:
        def step() -> None:
            theta = theta0.clone().requires_grad_(True)
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            sampler(x, grid).backward(grad_out)

        return step

    def bilinear(inp: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        return F.grid_sample(inp, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    steps = {"bilinear": run(bilinear), "blended": run(blended)}
    times = _time(steps, repeats, warmup)
    peaks = {name: [_peak_extra_bytes(step) for _ in range(3)] for name, step in steps.items()}
    peak = {name: (None if None in p else statistics.median(p)) for name, p in peaks.items()}  # type: ignore[type-var]
    out_bytes = x.numel() * x.element_size()
    extra = None if peak["blended"] is None or peak["bilinear"] is None else peak["blended"] - peak["bilinear"]
    return {
        "shape": [batch, 1, size, size],
        "backend": str(select_backend(x)),
        "bilinear_s": times["bilinear"]["wall"],
        "blended_s": times["blended"]["wall"],
        "ratio_wall": times["blended"]["wall"] / times["bilinear"]["wall"],
        "ratio_wall_min": times["blended"]["wall_min"] / times["bilinear"]["wall_min"],
        "bilinear_cpu_s": times["bilinear"]["cpu"],
        "blended_cpu_s": times["blended"]["cpu"],
        "ratio_cpu": times["blended"]["cpu"] / times["bilinear"]["cpu"],
        "ratio_cpu_min": times["blended"]["cpu_min"] / times["bilinear"]["cpu_min"],
        "output_bytes": out_bytes,
        "bilinear_peak_bytes": peak["bilinear"],
        "blended_peak_bytes": peak["blended"],
        "extra_peak_bytes": extra,
        "extra_over_output": None if extra is None else extra / out_bytes,
    }


def machine() -> dict:
    info: dict = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "load_average_1_5_15min": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        import numba

        info["numba"] = numba.__version__
        info["numba_threads"] = numba.get_num_threads()
    except ImportError:
        info["numba"] = None
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch and numba threads (default: all cores)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_sampler.json")
    args = parser.parse_args()
    _fix_mmap_threshold()
    if args.threads:
        torch.set_num_threads(args.threads)
        try:
            import numba

            numba.set_num_threads(args.threads)
        except ImportError:
            pass
    rows = [bench(s, args.batch, args.repeats, args.warmup) for s in args.sizes]
    command = "python benchmarks/bench_sampler.py" + (f" --threads {args.threads}" if args.threads else "")
    result = {"command": command, "machine": machine(), "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(
        "| input | backend | bilinear (ms) | blended (ms) | ratio (median) | ratio (min) | CPU ratio (min) "
        "| extra / output |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        extra = "n/a" if r["extra_over_output"] is None else f"{r['extra_over_output']:.2f}x"
        print(
            f"| {'x'.join(map(str, r['shape']))} | {r['backend']} | {1e3 * r['bilinear_s']:.1f} | "
            f"{1e3 * r['blended_s']:.1f} | {r['ratio_wall']:.1f}x | {r['ratio_wall_min']:.1f}x | "
            f"{r['ratio_cpu_min']:.1f}x | {extra} |"
        )


if __name__ == "__main__":
    main()
