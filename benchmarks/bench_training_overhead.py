"""Benchmark: the classifier bundle's training step against a plain PyTorch loop, same model, same data, one run.

The bundle ``bundles/mammo_stn_classifier`` is parsed with MONAI's ``ConfigParser`` as ``train.yaml`` configures
it (network, loss with class weights, Adam, warm-up cosine LR schedule, postprocessing, the per-iteration handlers:
``LrScheduleHandler``, ``StatsHandler``, ``TensorBoardStatsHandler``). Its data loader's batches are materialised
once, so both sides train on exactly the same tensors and data loading is left out of both. The validation
handler and the epoch checkpoint are left out (they are per epoch, not per iteration).

Per repeat: one epoch of the bundle's ``SupervisedTrainer`` over the batches, then one epoch of the plain loop
(``zero_grad``, forward -- under the same bfloat16 autocast when the bundle's ``cpu_amp`` is on --, loss,
``backward``, ``step``, ``scheduler.step()``) over the same batches on the same network; the two alternate, so that
both see the same background load. Per iteration, both the wall time and the process CPU time are recorded; with one
torch thread the CPU time is what the step costs, whatever else runs on the machine -- except in a virtual machine
whose host is busy, where stolen time is counted too. The reported overhead is the ratio of the minima over repeats
of the CPU time per iteration (timeit's estimator: the least disturbed repeat); medians, the paired per-repeat
ratios with a bootstrap 95% interval, and the wall-time figures are in the JSON too.

Usage::

    python benchmarks/bench_training_overhead.py [--repeats 5] [--iterations 8] [--threads 1]
        [--out benchmarks/results/bench_training_overhead.json] [--override key=value ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from monai.bundle import ConfigParser
from monai.data import MetaTensor

from monai_mammo.utils import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bundles" / "mammo_stn_classifier" / "configs" / "train.yaml"


def _parse_override(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def build(overrides: dict) -> ConfigParser:
    parser = ConfigParser(ConfigParser.load_config_file(str(CONFIG)))
    parser.update(overrides)
    # the trainer's handlers as configured, minus the per-epoch validation (the epoch checkpoint and the resume
    # handler are attached by the `training` run list, which is not run here)
    handlers = parser["train"]["handlers"]
    parser["train#handlers"] = [h for h in handlers if h.get("_target_") != "ValidationHandler"]
    parser.get_parsed_content("initialize")
    return parser


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=8, help="training iterations per epoch (batches)")
    ap.add_argument(
        "--threads", type=int, default=1, help="the bundle's num_threads (the JSON records what torch used)"
    )
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_training_overhead.json"))
    ap.add_argument("--override", nargs="*", default=[], help="bundle overrides key=value (JSON values)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_training_overhead_"))
    overrides = {
        "bundle_root": str(CONFIG.parents[1]),  # a bare ConfigParser has no workflow to take it from
        "dataset_dir": str(work / "dataset"),
        "run_dir": str(work / "run"),
        "num_threads": args.threads,
        "synthetic": {"num_images": 60, "image_size": 128, "modality": "MG", "seed": 0, "folds": 5},
    }
    overrides.update(dict(_parse_override(o) for o in args.override))
    (work / "dataset").mkdir()
    parser = build(overrides)
    trainer = parser.get_parsed_content("train#trainer")
    network = parser.get_parsed_content("network")
    optimizer = parser.get_parsed_content("optimizer")
    loss_fn = parser.get_parsed_content("loss")
    scheduler = parser.get_parsed_content("lr_scheduler")
    device = parser.get_parsed_content("device")
    autocast = bool(parser.get_parsed_content("train#inferer").enabled)  # the bundle's cpu_amp on this CPU

    loader = parser.get_parsed_content("train#dataloader")
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == args.iterations:
            break
    if len(batches) < args.iterations:
        raise ValueError(f"the training set gives {len(batches)} batches, fewer than --iterations {args.iterations}.")

    trainer.data_loader = batches
    trainer.state.epoch_length = len(batches)

    def bundle_epoch() -> tuple[float, float]:
        trainer.state.max_epochs = trainer.state.epoch + 1
        start, cpu = time.perf_counter(), time.process_time()
        trainer.run()
        return (time.perf_counter() - start) / len(batches), (time.process_time() - cpu) / len(batches)

    def plain_epoch() -> tuple[float, float]:
        network.train()
        start, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            x = batch["image"].to(device)
            x = x.as_tensor() if isinstance(x, MetaTensor) else x  # plain tensors either way
            y = batch["label"].to(device)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast):
                logits = network(x)
            loss = loss_fn(logits.float(), y)
            loss.backward()
            optimizer.step()
            scheduler.step()  # per iteration, as the bundle's LrScheduleHandler
        return (time.perf_counter() - start) / len(batches), (time.process_time() - cpu) / len(batches)

    plain_epoch()  # warm-up of both paths (allocations, numba compilation)
    trainer.state.max_epochs = 1
    trainer.run()
    bundle_t, plain_t, bundle_c, plain_c = [], [], [], []
    for _ in range(args.repeats):
        wall, cpu = bundle_epoch()
        bundle_t.append(wall)
        bundle_c.append(cpu)
        wall, cpu = plain_epoch()
        plain_t.append(wall)
        plain_c.append(cpu)

    def summary(b: list[float], p: list[float]) -> dict:
        """Ratio of the minima (timeit's estimator: the least disturbed repeat), ratio of the medians, and a
        bootstrap 95% interval of the median of the paired per-repeat ratios."""
        paired = np.asarray(b) / np.asarray(p)
        rng = np.random.default_rng(0)
        boots = [np.median(paired[rng.integers(0, len(paired), len(paired))]) for _ in range(2000)]
        return {
            "bundle_s_per_iteration": {"min": min(b), "median": statistics.median(b), "all": b},
            "plain_s_per_iteration": {"min": min(p), "median": statistics.median(p), "all": p},
            "ratio_of_minima": min(b) / min(p),
            "ratio_of_medians": statistics.median(b) / statistics.median(p),
            "median_paired_ratio": float(np.median(paired)),
            "paired_ratio_95ci": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
        }

    cpu_summary = summary(bundle_c, plain_c)
    ratio = cpu_summary["ratio_of_minima"]
    x_shape = list(batches[0]["image"].shape)
    result = {
        "benchmark": "bundle SupervisedTrainer iteration vs plain PyTorch loop",
        "config": str(CONFIG.relative_to(ROOT)),
        "overrides": {k: v for k, v in overrides.items() if k not in ("bundle_root", "dataset_dir", "run_dir")},
        "input_batch_shape": x_shape,
        "iterations_per_epoch": len(batches),
        "repeats": args.repeats,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "bfloat16_autocast": autocast,
        "cpu_time": cpu_summary,
        "wall_time": summary(bundle_t, plain_t),
        "overhead_percent": (ratio - 1) * 100,
        "overhead_measure": "ratio of the minima over repeats of process CPU time per iteration (1 thread)",
        "goal": "overhead <= 10%",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__},
    }
    atomic_write_text(args.out, json.dumps(result, indent=2))
    print(json.dumps({"input_batch_shape": x_shape, "cpu_time": cpu_summary}, indent=2))
    print(
        f"CPU time per iteration (median): bundle {statistics.median(bundle_c):.3f} s, plain "
        f"{statistics.median(plain_c):.3f} s; "
        f"overhead {(ratio - 1) * 100:+.1f}% -> {args.out}"
    )


if __name__ == "__main__":
    main()
