"""Experiment: does cross-dimensional transfer (Inbaraj et al., 2025) help ultrasound with few labels?

Everything runs through the product. The datalist is made by the CLI: ``python -m monai_mammo prepare busi
--duplicates remove`` (the shared BUSI part, near-duplicates removed, a test part of 20% and 5 folds) and
``python -m monai_mammo prepare mias`` (the shared mini-MIAS part, split by woman the same way), merged; fold 0
validates, the other folds train. Each model is the ``breast_cross_transfer`` bundle's ``training``
(``bundles/breast_cross_transfer/configs/train.yaml``) with ``--label_fraction`` of the ultrasound (target) training
labels, and the bundle's own test evaluation of its final model on the BUSI test images. Three methods, the same
encoder and settings, in the same run:

- ``us_only``: one-modality training, the bundle with ``benchmarks/configs/breast_cross_transfer_target_only.yaml``
  (no phase 1, phase 2 on the target labels alone);
- ``plain_ft``: plain transfer, the bundle with ``benchmarks/configs/breast_cross_transfer_plain_transfer.yaml`` (the
  network without modality-specific parts trained on mammography, then all of it fine-tuned on the target);
- ``cross_dim``: the bundle as it is: the three phases (mixed pretraining with balanced modalities and the sum of
  the per-modality losses, fine-tuning per modality, ``w' = a w + (1 - a) w_cross`` with ``a`` chosen on the
  validation fold).

Every fine-tuning keeps the epoch with the best validation AUC, ``a`` is chosen on validation data, and the test
images are predicted once per run. Metrics on the test images (macro means over normal / benign / malignant):
accuracy, sensitivity, precision, F1, AUC, each the mean over seeds with a 95% percentile-bootstrap interval over
the test images of that mean, and the SD over seeds; and the difference of ``cross_dim`` to each baseline with a
paired bootstrap interval.

Run::

    python benchmarks/bench_cross_transfer.py [--seeds 0 1 2] [--fractions 0.1 1.0] [--pretrain-epochs 6]
        [--finetune-epochs 8] [--threads 1] [--work-dir /tmp/bench_cross_transfer] [--quick]
    python benchmarks/bench_cross_transfer.py --merge part1.json part2.json  # runs of separate fractions

Writes ``benchmarks/results/bench_cross_transfer.json`` (figures and the bundle commands) and prints a Markdown
table; the models stay in ``--work-dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Events
from monai.bundle import ConfigWorkflow

from monai_mammo.metrics import bootstrap_ci, classification_metrics
from monai_mammo.utils import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CONFIGS = ROOT / "bundles" / "breast_cross_transfer" / "configs"
TRAIN, META = CONFIGS / "train.yaml", CONFIGS / "metadata.json"
OVERLAYS = {
    "us_only": [ROOT / "benchmarks" / "configs" / "breast_cross_transfer_target_only.yaml"],
    "plain_ft": [ROOT / "benchmarks" / "configs" / "breast_cross_transfer_plain_transfer.yaml"],
    "cross_dim": [],
}
METRICS = ("accuracy", "sensitivity", "precision", "f1", "auc")
NUM_CLASSES = 3


def prepare_datalist(work_dir: Path, seed: int) -> Path:
    """BUSI (de-duplicated) and mini-MIAS datalists by the product's CLI, merged into one."""
    parts = {}
    for name, extra in (("busi", ["--duplicates", "remove"]), ("mias", [])):
        out = work_dir / f"{name}.json"
        folder = DATA / ("busi" if name == "busi" else "mini-mias")
        cmd = [sys.executable, "-m", "monai_mammo", "prepare", name, str(folder), "-o", str(out), "--absolute"]
        cmd += ["--seed", str(seed), *extra]
        print("$", " ".join(cmd), flush=True)
        if not out.is_file():  # a datalist made by an earlier run in the same --work-dir is reused
            subprocess.run(cmd, check=True, cwd=ROOT)
        parts[name] = json.loads(out.read_text())
    # only the keys both datalists have: the bundle's DataLoader cannot collate a batch whose items differ in keys
    # (MIAS items carry laterality, view, abnormalities ... that BUSI items lack)
    keep = ("image", "label", "class_name", "modality", "patient_id", "fold")
    merged = {
        key: [{k: it[k] for k in keep if k in it} for it in parts["busi"][key] + parts["mias"][key]]
        for key in ("training", "test")
    }
    path = work_dir / "busi_mias.json"
    atomic_write_text(path, json.dumps(merged, indent=1))
    return path


def cli(files: list[Path], overrides: dict[str, Any]) -> str:
    """The ``python -m monai.bundle run training`` command of a run (paths relative to the repository)."""
    names = [str(p.relative_to(ROOT)) for p in files]
    config = names[0] if len(names) == 1 else '"[' + ",".join(f"'{n}'" for n in names) + ']"'
    args = " ".join(f"--{k} {shlex.quote(v if isinstance(v, str) else json.dumps(v))}" for k, v in overrides.items())
    return f"python -m monai.bundle run training --config_file {config} {args}"


def run_bundle(method: str, overrides: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """One bundle ``training`` run; returns the test images' probabilities and labels, ``a``, the bundle's AUC."""
    if run_dir.exists():
        shutil.rmtree(run_dir)  # a fresh run, not a resumed one
    files = [TRAIN, *OVERLAYS[method]]
    overrides = {**overrides, "run_dir": str(run_dir)}
    workflow = ConfigWorkflow(
        config_file=[str(f) for f in files], meta_file=str(META), run_id="training", logging_file=False, **overrides
    )
    workflow.initialize()
    records: list[dict[str, Any]] = []

    def _keep(engine: Any) -> None:
        for item in engine.state.output:
            records.append({"label": int(item["label"]), "probabilities": item["pred"].detach().cpu().numpy()})

    workflow.parser.get_parsed_content("test#evaluator").add_event_handler(Events.ITERATION_COMPLETED, _keep)
    workflow.run()
    transfer = workflow.parser.get_parsed_content("transferring#engine")
    workflow.finalize()
    report = json.loads((run_dir / "eval" / "test_report.json").read_text())
    return {
        "y": np.asarray([r["label"] for r in records]),
        "p": np.stack([r["probabilities"] for r in records]),
        "alpha": float(transfer.state.metrics["alpha"]),
        "bundle_auc": report["metrics"]["auc"],
    }


def summarise(y: np.ndarray, probs: list[np.ndarray], n_boot: int) -> dict[str, Any]:
    """Per metric: the mean over seeds with a bootstrap CI over the test images, the SD and the seeds' values."""
    out = {}
    for name in METRICS:

        def mean_metric(y_: np.ndarray, *ps: np.ndarray, name: str = name) -> float:
            return float(np.mean([classification_metrics(y_, p, NUM_CLASSES)[name] for p in ps]))

        per_seed = [float(classification_metrics(y, p, NUM_CLASSES)[name]) for p in probs]
        ci = bootstrap_ci(mean_metric, y, *probs, n_boot=n_boot, seed=0)
        out[name] = {
            "mean": ci.value,
            "ci": [ci.low, ci.high],
            "sd_over_seeds": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0,
            "per_seed": per_seed,
        }
    return out


def difference(y: np.ndarray, probs: list[np.ndarray], base: list[np.ndarray], n_boot: int) -> dict[str, Any]:
    """``cross_dim`` minus a baseline, per metric: mean over seeds, paired bootstrap CI over the test images."""
    out = {}
    k = len(probs)
    for name in METRICS:

        def diff(y_: np.ndarray, *ps: np.ndarray, name: str = name) -> float:
            scores = [classification_metrics(y_, p, NUM_CLASSES)[name] for p in ps]
            return float(np.mean(scores[:k]) - np.mean(scores[k:]))

        ci = bootstrap_ci(diff, y, *probs, *base, n_boot=n_boot, seed=0)
        out[name] = {"value": ci.value, "ci": [ci.low, ci.high]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 1.0], help="the bundle's label_fraction")
    parser.add_argument("--image-size", type=int, default=64, help="the bundle's image_size")
    parser.add_argument("--pretrain-epochs", type=int, default=6, help="the bundle's pretrain_epochs")
    parser.add_argument("--finetune-epochs", type=int, default=8, help="the bundle's finetune_epochs")
    parser.add_argument("--batch-size", type=int, default=32, help="the bundle's batch_size")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="the bundle's learning_rate (lr0)")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="the bundle's num_threads")
    parser.add_argument("--quick", action="store_true", help="tiny settings, to check the script")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/bench_cross_transfer"))
    parser.add_argument("--merge", nargs="+", type=Path, help="merge these result files (e.g. one per fraction)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_cross_transfer.json"))
    args = parser.parse_args()
    if args.merge:
        parts = [json.loads(p.read_text()) for p in args.merge]
        merged = {**parts[0], "results": {}, "differences": {}, "total_seconds": {}}
        for part in parts:
            merged["results"].update(part["results"])
            merged["differences"].update(part["differences"])
            merged["total_seconds"][part["settings"]["out"]] = part["total_seconds"]
        merged["settings"]["fractions"] = [f for p in parts for f in p["settings"]["fractions"]]
        atomic_write_text(Path(args.out), json.dumps(merged, indent=1))
        print(markdown(merged))
        return
    if args.quick:
        args.seeds, args.fractions, args.pretrain_epochs, args.finetune_epochs, args.n_boot = [0], [0.25], 1, 1, 50
    torch.set_num_threads(args.threads)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    datalist = prepare_datalist(args.work_dir, seed=0)
    common: dict[str, Any] = {
        "datalist": str(datalist),
        "backbone": "small_cnn_classifier",
        "backbone_kwargs": {"channels": [16, 32, 64]},
        "image_size": args.image_size,
        "pretrain_epochs": args.pretrain_epochs,
        "finetune_epochs": args.finetune_epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "num_threads": args.threads,
        "n_boot": 200,
    }
    lists = json.loads(datalist.read_text())
    results: dict[str, Any] = {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "datalist_commands": [
            "python -m monai_mammo prepare busi ../shared/data/busi -o busi.json --absolute --seed 0 "
            "--duplicates remove",
            "python -m monai_mammo prepare mias ../shared/data/mini-mias -o mias.json --absolute --seed 0",
            "then {'training': busi + mias training, 'test': busi + mias test} as busi_mias.json, each item with "
            "image, label, class_name, modality, patient_id, fold only",
        ],
        "data": {
            f"{part}_{modality}": sum(1 for it in lists[part] if it["modality"] == modality)
            for part in ("training", "test")
            for modality in ("US", "MG")
        },
        "commands": {m: cli([TRAIN, *OVERLAYS[m]], {**common, "datalist": "busi_mias.json"}) for m in OVERLAYS},
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": args.threads,
            "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
            "platform": platform.platform(),
            "torch": torch.__version__,
        },
        "results": {},
        "differences": {},
    }
    for fraction in args.fractions:
        runs: dict[str, list[dict[str, Any]]] = {}
        for method in OVERLAYS:
            t = time.time()
            runs[method] = []
            for seed in args.seeds:
                overrides = {**common, "label_fraction": fraction, "seed": seed}
                run_dir = args.work_dir / f"{method}_{fraction:g}_{seed}"
                runs[method].append(run_bundle(method, overrides, run_dir))
            y = runs[method][0]["y"]
            if any(not np.array_equal(r["y"], y) for r in runs[method]):
                raise RuntimeError("the test images differ between seeds.")
            summary = summarise(y, [r["p"] for r in runs[method]], args.n_boot)
            summary["seconds"] = round(time.time() - t, 1)
            summary["test_images"] = len(y)
            summary["bundle_auc_per_seed"] = [r["bundle_auc"] for r in runs[method]]
            if method == "cross_dim":
                summary["alpha_per_seed"] = [r["alpha"] for r in runs[method]]
            results["results"][f"{method}@{fraction:g}"] = summary
            print(fraction, method, {m: round(summary[m]["mean"], 3) for m in METRICS}, f"{summary['seconds']}s")
        y = runs["cross_dim"][0]["y"]
        cross = [r["p"] for r in runs["cross_dim"]]
        for base in ("us_only", "plain_ft"):
            results["differences"][f"cross_dim-{base}@{fraction:g}"] = difference(
                y, cross, [r["p"] for r in runs[base]], args.n_boot
            )
        atomic_write_text(Path(args.out), json.dumps({**results, "partial": True}, indent=1))  # in case of a stop
    results["total_seconds"] = round(time.time() - t0, 1)
    atomic_write_text(Path(args.out), json.dumps(results, indent=1))
    print(markdown(results))


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables: the methods, then the differences to the baselines."""
    lines = ["| labels | method | " + " | ".join(METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
    for key, r in results["results"].items():
        method, fraction = key.split("@")
        cells = [f"{r[m]['mean']:.3f} [{r[m]['ci'][0]:.3f}, {r[m]['ci'][1]:.3f}]" for m in METRICS]
        lines.append(f"| {float(fraction):.0%} | {method} | " + " | ".join(cells) + " |")
    lines += ["", "| labels | difference | " + " | ".join(METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
    for key, d in results["differences"].items():
        name, fraction = key.split("@")
        cells = [f"{d[m]['value']:+.3f} [{d[m]['ci'][0]:+.3f}, {d[m]['ci'][1]:+.3f}]" for m in METRICS]
        lines.append(f"| {float(fraction):.0%} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
