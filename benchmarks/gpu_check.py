"""The GPU path in one run: Triton kernels against the reference, sampler speed, each bundle for an epoch with AMP.

Run through ``bash benchmarks/gpu_check.sh`` (it adds the time limit) on a machine with an NVIDIA GPU. Three parts,
each written to the JSON as soon as it ends, so that a run cut short still leaves what it measured:

1. ``kernels``: :func:`~monai_mammo.networks.layers.lanczos_grid_sample` with ``backend="triton"`` against
   :func:`~monai_mammo.networks.layers.lanczos.lanczos_grid_sample_reference` on the same CUDA tensors, forward
   and backward (gradients of the image and of the grid), in float32, float16 and bfloat16, for every padding mode
   and both ``align_corners``; and :class:`~monai_mammo.networks.layers.BlendedSampler` with the Triton backend
   against the same sampler with the reference backend.
2. ``sampler_speed``: forward + backward of the blended sampler (``BlendedSampler``, Triton) against bilinear
   :func:`torch.nn.functional.grid_sample`, medians of CUDA-event timings; the goal is a ratio of at most 1.5.
3. ``bundles``: ``python -m monai.bundle run training`` of mammo_stn_classifier, mammo_srgan and
   breast_cross_transfer, each for one epoch per phase with ``--amp true``, on their synthetic default data
   generated into a temporary folder.

Usage::

    bash benchmarks/gpu_check.sh            # or: python benchmarks/gpu_check.py [--out ...] [--skip-bundles]

Writes ``benchmarks/results/gpu_check.json``. Without CUDA it prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from monai_mammo.networks.layers import BlendedSampler, lanczos_grid_sample
from monai_mammo.networks.layers.lanczos import lanczos_grid_sample_reference, select_backend
from monai_mammo.utils import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "gpu_check.json"
NO_CUDA_MESSAGE = (
    "gpu_check: no CUDA device (torch.cuda.is_available() is False); run it on a machine with an NVIDIA GPU."
)
# tolerances against the reference, relative to the largest magnitude of the reference's result
# the reference runs in float64 on the same (rounded) inputs: the native kernel may differ by its compute precision
# (float32) and the rounding of its result to the input's dtype
TOLERANCE = {torch.float32: 1e-4, torch.float16: 5e-3, torch.bfloat16: 3e-2}
SPEED_GOAL = 1.5
SPEED_SHAPES = ((32, 1, 128), (16, 1, 256), (16, 3, 224), (8, 16, 128))  # (N, C, side): the STN's inputs and larger
# each bundle for one epoch per phase, with mixed precision; the rest of the settings are the bundle's defaults
BUNDLES: dict[str, dict[str, Any]] = {
    "mammo_stn_classifier": {"epochs": 1},
    "mammo_srgan": {"pretrain_epochs": 1, "gan_epochs": 1},
    "breast_cross_transfer": {"pretrain_epochs": 1, "finetune_epochs": 1},
}


def _inputs(dtype: torch.dtype, device: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A (2, 3, 37, 45) image and a rotated, scaled, jittered grid reaching a little outside [-1, 1]."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 37, 45, generator=gen)
    angle = torch.tensor([0.3, -0.7])
    theta = torch.zeros(2, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = 1.1 * angle.cos(), -1.1 * angle.sin()
    theta[:, 1, 0], theta[:, 1, 1] = 1.1 * angle.sin(), 1.1 * angle.cos()
    theta[:, :, 2] = torch.tensor([[0.05, -0.1], [-0.08, 0.02]])
    grid = F.affine_grid(theta, [2, 3, 29, 33], align_corners=False)
    grid = (grid + 0.01 * torch.randn(grid.shape, generator=gen)).to(dtype).float()
    # off the kinks: a coordinate of exactly +-1 (likely once rounded to 16 bits) sits where border and reflection
    # padding have no derivative, and two correct implementations may take either side
    grid = torch.where(grid.abs() == 1.0, grid * 1.02, grid)
    return image.to(device, dtype), grid.to(device, dtype)


def _error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """Largest absolute difference relative to the largest magnitude of the reference."""
    scale = reference.detach().double().abs().max().clamp_min(1e-12)
    return float((value.detach().double() - reference.detach().double()).abs().max() / scale)


def _gradients(
    fn: Callable, image: torch.Tensor, grid: torch.Tensor, upstream: torch.Tensor, dtype: torch.dtype | None = None
) -> dict[str, Any]:
    """The output of ``fn(image, grid)`` and the gradients of ``sum(output * upstream)`` (``dtype``: cast first)."""
    image = image.detach().clone().to(dtype or image.dtype).requires_grad_(True)
    grid = grid.detach().clone().to(dtype or grid.dtype).requires_grad_(True)
    out = fn(image, grid)
    (out.float() * upstream).sum().backward()
    return {"forward": out, "grad_input": image.grad, "grad_grid": grid.grad}


def _case(function: str, dtype: torch.dtype, padding: str, align: bool, got: dict, ref: dict) -> dict[str, Any]:
    errors = {name: _error(got[name], ref[name]) for name in ref}
    name = str(dtype).replace("torch.", "")
    ok = all(e <= TOLERANCE[dtype] for e in errors.values()) and got["forward"].dtype == dtype
    rounded = {k: round(v, 8) for k, v in errors.items()}
    return {"function": function, "dtype": name, "padding_mode": padding, "align_corners": align,
            "relative_error": rounded, "ok": ok}  # fmt: skip


def check_kernels(device: str = "cuda", backend: str = "triton") -> dict[str, Any]:
    """The native kernel against the reference: forward and both gradients, every dtype, padding and alignment.

    ``device="cuda", backend="triton"`` is the GPU check; ``"cpu", "numba"`` runs the same checks on a CPU.
    """
    cases = []
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        image, grid = _inputs(dtype, device)
        if select_backend(image, "auto").value != backend:
            raise RuntimeError(f"backend='auto' does not pick {backend} for {device} tensors (is {backend} installed?)")
        upstream = torch.randn(2, 3, 29, 33, generator=torch.Generator().manual_seed(1)).to(device)
        for padding in ("zeros", "border", "reflection"):
            for align in (False, True):
                kw = {"a": 3, "padding_mode": padding, "align_corners": align}
                native = functools.partial(lanczos_grid_sample, backend=backend, **kw)
                got = _gradients(native, image, grid, upstream)
                reference = functools.partial(lanczos_grid_sample_reference, **kw)
                ref = _gradients(reference, image, grid, upstream, torch.float64)
                cases.append(_case("lanczos_grid_sample", dtype, padding, align, got, ref))
        samplers = {b: BlendedSampler(init_weight=0.3, backend=b).to(device) for b in (backend, "reference")}
        samplers["reference"].double()
        got = _gradients(samplers[backend], image, grid, upstream)
        ref = _gradients(samplers["reference"], image, grid, upstream, torch.float64)
        got["grad_weight"], ref["grad_weight"] = samplers[backend].t.grad, samplers["reference"].t.grad
        cases.append(_case("BlendedSampler", dtype, "zeros", False, got, ref))
    tolerance = {str(k).replace("torch.", ""): v for k, v in TOLERANCE.items()}
    return {"device": device, "backend": backend, "tolerance_relative_to_max": tolerance, "cases": cases,
            "ok": all(c["ok"] for c in cases)}  # fmt: skip


def _median_ms(fn: Callable[[], Any], device: str, warmup: int = 5, reps: int = 30) -> float:
    """Median milliseconds of ``fn``: CUDA events around each call on a GPU, the wall clock on a CPU."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if device == "cuda":
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            begin = time.perf_counter()
            fn()
            times.append((time.perf_counter() - begin) * 1e3)
    return float(sorted(times)[len(times) // 2])


def time_sampler(device: str = "cuda", shapes: tuple = SPEED_SHAPES, reps: int = 30) -> dict[str, Any]:
    """Forward + backward of the blended sampler against bilinear ``grid_sample`` on spatial-transformer inputs."""
    rows = []
    for n, c, size in shapes:
        for dtype in (torch.float32, torch.float16) if device == "cuda" else (torch.float32,):
            image = torch.rand(n, c, size, size, device=device, dtype=dtype, requires_grad=True)
            theta = torch.eye(2, 3, device=device).repeat(n, 1, 1) * 0.9
            grid = F.affine_grid(theta, [n, c, size, size], align_corners=False).to(dtype).requires_grad_(True)
            sampler = BlendedSampler().to(device)

            def blended(image: torch.Tensor = image, grid: torch.Tensor = grid, sampler: Any = sampler) -> None:
                sampler(image, grid).float().sum().backward()

            def bilinear(image: torch.Tensor = image, grid: torch.Tensor = grid) -> None:
                F.grid_sample(image, grid, mode="bilinear", align_corners=False).float().sum().backward()

            ms_blended, ms_bilinear = _median_ms(blended, device, reps=reps), _median_ms(bilinear, device, reps=reps)
            rows.append({"shape": [n, c, size, size], "dtype": str(dtype).replace("torch.", ""),
                         "blended_ms": round(ms_blended, 4), "bilinear_ms": round(ms_bilinear, 4),
                         "ratio": round(ms_blended / ms_bilinear, 3)})  # fmt: skip
    worst = max(r["ratio"] for r in rows)
    what = f"forward + backward (image and grid gradients), median of {reps} timings ({device})"
    return {"what": what, "goal_ratio": SPEED_GOAL, "worst_ratio": worst, "meets_goal": worst <= SPEED_GOAL,
            "rows": rows}  # fmt: skip


def run_bundle(name: str, overrides: dict[str, Any], workdir: Path, timeout: float) -> dict[str, Any]:
    """``python -m monai.bundle run training`` of one bundle with AMP; return code, time, reports and the log's tail."""
    run_dir, data_dir = workdir / name / "run", workdir / name / "dataset"
    data_dir.mkdir(parents=True)
    flags = {"run_dir": run_dir, "dataset_dir": data_dir, "amp": True, **overrides}
    command = [sys.executable, "-m", "monai.bundle", "run", "training", "--config_file",
               f"bundles/{name}/configs/train.yaml", *[f"--{k}={v}" for k, v in flags.items()]]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
        code, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as e:
        code, output = (
            "timeout",
            (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace"),
        )
    reports = {}
    for path in sorted((run_dir / "eval").glob("*.json")) if (run_dir / "eval").is_dir() else []:
        try:
            reports[path.name] = json.loads(path.read_text())
        except (OSError, ValueError):
            reports[path.name] = "unreadable"
    return {
        "command": " ".join(str(c) for c in command[1:]),
        "returncode": code,
        "seconds": round(time.perf_counter() - start, 1),
        "ok": code == 0,
        "reports": reports,
        "log_tail": output[-3000:] if code != 0 else output[-600:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="the JSON to write")
    parser.add_argument("--skip-bundles", action="store_true", help="kernels and timing only")
    parser.add_argument("--bundle-timeout", type=float, default=120.0, help="seconds allowed to each bundle run")
    parser.add_argument(
        "--cpu-dry-run",
        action="store_true",
        help="no GPU: the same kernel checks with numba on the CPU (tests the script)",
    )
    args = parser.parse_args(argv)
    device, backend = ("cpu", "numba") if args.cpu_dry_run else ("cuda", "triton")
    if device == "cuda" and not torch.cuda.is_available():
        print(NO_CUDA_MESSAGE, file=sys.stderr)
        return 2
    machine: dict[str, Any] = {"platform": platform.platform(), "torch": torch.__version__}
    if device == "cuda":
        import triton  # a CUDA build of torch brings it; the kernels need it

        machine.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda, triton=triton.__version__)
    result: dict[str, Any] = {"machine": machine, "command": "bash benchmarks/gpu_check.sh", "device": device}

    def save() -> None:
        atomic_write_text(args.out, json.dumps(result, indent=1))

    parts: dict[str, Callable[[], dict[str, Any]]] = {
        "kernels": lambda: check_kernels(device, backend),
        "sampler_speed": lambda: time_sampler(device, SPEED_SHAPES if device == "cuda" else ((4, 1, 64),), 30),
    }
    for key, part in parts.items():
        start = time.perf_counter()
        try:
            result[key] = part()
        except Exception as e:  # record the failure and go on to the next part
            result[key] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        result[key]["seconds"] = round(time.perf_counter() - start, 1)
        save()
        print(f"{key}: " + json.dumps({k: v for k, v in result[key].items() if k not in ("cases", "rows")}), flush=True)
    if not args.skip_bundles:
        result["bundles"] = {}
        with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
            for name, overrides in BUNDLES.items():
                result["bundles"][name] = entry = run_bundle(name, overrides, Path(tmp), args.bundle_timeout)
                save()
                print(f"bundle {name}: ok={entry['ok']} in {entry['seconds']} s", flush=True)
    checks = [result["kernels"].get("ok"), result["sampler_speed"].get("meets_goal")]
    checks += [entry["ok"] for entry in result.get("bundles", {}).values()]
    result["all_ok"] = all(bool(c) for c in checks)
    save()
    print(f"wrote {args.out} (all_ok={result['all_ok']})")
    return 0 if result["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
