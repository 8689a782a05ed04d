"""Benchmark: the ablation of Swapna & Vijaya Kumar's Tables 5 and 6 on the shared mini-MIAS part, 5-fold, by woman.

ResNet50, STN-ResNet50 and SRGAN-STN-ResNet50 (the ``bundles/mammo_stn_classifier`` bundle with ``use_sr`` /
``use_stn`` switched) are cross-validated with :func:`monai_mammo.apps.cross_validate`: the women of
``../shared/data/mini-mias`` are split into 5 stratified folds (both breasts of a woman in one fold) before any
augmentation; test fold ``k`` is predicted by a model trained on three other folds whose best epoch was chosen on
the remaining one, so no figure is tuned on the images it reports. The pooled out-of-fold predictions give
accuracy, sensitivity, specificity, F1 and ROC AUC (macro over classes for 3 classes, class "abnormal" for 2) with
95% bootstrap intervals that resample women.

Tasks: ``3class`` (normal / benign / malignant) and ``binary`` (normal vs abnormal, trained as its own 2-class
model). The 3-class models' out-of-fold predictions are also scored as normal vs abnormal (abnormal when the most
probable class is benign or malignant; AUC from P(benign) + P(malignant)), which costs no training. Baselines in
the same run: ResNet50 (the paper's baseline row; the other rows report their difference to it) and the majority
class.

Usage::

    python benchmarks/bench_mias_ablation.py [--mias ../shared/data/mini-mias] [--tasks 3class binary]
        [--models resnet50 stn_resnet50 srgan_stn_resnet50] [--image-size 128] [--epochs 10]
        [--work /tmp/mias_ablation] [--out benchmarks/results/bench_mias_ablation.json]
        [--patch-pretrain [--patch-epochs 20]] [--set KEY=VALUE ...]

``--patch-pretrain``: each fold first trains the ResNet-50 on lesion and normal-tissue patches of its own training
women (``bundles/mammo_stn_classifier/configs/pretrain_patches.yaml``, best epoch on its validation fold), and the
whole-image training starts from that backbone (``cross_validate(..., pretrain_config=...)``). ``--set`` passes
more whole-image settings (the patch stage keeps the bundle's defaults for them).

Finished runs are kept in ``--work`` and skipped when the command is run again (an interrupted benchmark goes on
where it stopped); the JSON is rewritten after every run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_sr import parse_settings  # benchmarks/ is the script's folder, so on sys.path
from monai.bundle import ConfigParser

from monai_mammo.apps import cross_validate
from monai_mammo.data import mias_items, split_datalist, write_datalist
from monai_mammo.handlers import latest_checkpoint
from monai_mammo.metrics import classification_report
from monai_mammo.utils import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bundles" / "mammo_stn_classifier" / "configs" / "train.yaml"
PATCH_PRETRAIN = CONFIG.parent / "pretrain_patches.yaml"
MODELS = {
    "resnet50": {"use_sr": False, "use_stn": False},
    "stn_resnet50": {"use_sr": False, "use_stn": True},
    "srgan_stn_resnet50": {"use_sr": True, "use_stn": True},
}
TASKS = {"3class": 3, "binary": 2}
METRICS = ("accuracy", "sensitivity", "specificity", "f1", "auc")


def make_datalists(mias_root: Path, work: Path, folds: int, seed: int) -> dict[str, Path]:
    """Write the 3-class and the normal-vs-abnormal datalists: the same 5 folds of women for both tasks."""
    items = mias_items(mias_root)
    split = split_datalist(items, folds=folds, test_fraction=0.0, seed=seed)
    binary = {"training": [{**item, "label": min(int(item["label"]), 1)} for item in split["training"]]}
    return {
        "3class": write_datalist(work / "mias_3class.json", split, relative=False),
        "binary": write_datalist(work / "mias_binary.json", binary, relative=False),
    }


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    return {
        m: {"value": report["metrics"][m]["value"], "ci": report["metrics"][m]["ci"]}
        for m in METRICS
        if report["metrics"].get(m) is not None
    }


def derived_binary(predictions: list[dict[str, Any]], n_boot: int, seed: int) -> dict[str, Any]:
    """Normal vs abnormal from a 3-class model's out-of-fold predictions: abnormal when its most probable class is
    benign or malignant (the model's own decision); AUC from the score P(benign) + P(malignant)."""
    y = np.asarray([min(int(p["label"]), 1) for p in predictions])
    decided = np.asarray([int(np.argmax(p["probabilities"]) > 0) for p in predictions])
    score = np.asarray([1.0 - float(p["probabilities"][0]) for p in predictions])
    common = {"class_names": ["normal", "abnormal"], "n_boot": n_boot, "seed": seed}
    groups = [p["patient_id"] for p in predictions]
    by_decision = summarise(classification_report(y, decided, 2, groups=groups, **common))
    by_score = summarise(classification_report(y, score, 2, groups=groups, **common))  # the same resamples
    return {**by_decision, "auc": by_score["auc"]}


def validation_auc(run: Path, folds: int, models: str = "models") -> dict[str, Any]:
    """Each fold's best validation AUC (on its validation fold, never its test fold) and epoch, from the bundle's
    finished resume checkpoint in ``fold_k/<models>``: the figure to choose between variants by, without looking
    at the test folds (``models/patches``: the patch stage's, lesion against normal-tissue patches)."""
    per_fold = []
    for k in range(folds):
        ckpt = latest_checkpoint(run / f"fold_{k}" / models)
        best = torch.load(ckpt, map_location="cpu", weights_only=False)["best"] if ckpt else {}
        per_fold.append({"auc": best.get("best_metric"), "epoch": best.get("best_metric_epoch")})
    values = [f["auc"] for f in per_fold if f["auc"] is not None]
    return {"mean": float(np.mean(values)) if values else None, "per_fold": per_fold}


def majority_baseline(datalist: Path, num_classes: int, n_boot: int, seed: int) -> dict[str, Any]:
    """Every image called the most frequent class (of the whole set; AUC 0.5 by construction)."""
    items = json.loads(datalist.read_text())["training"]
    y = np.asarray([int(i["label"]) for i in items])
    majority = int(np.bincount(y, minlength=num_classes).argmax())
    scores = np.zeros((len(y), num_classes))
    scores[:, majority] = 1.0
    report = classification_report(
        y,
        scores if num_classes > 2 else scores[:, 1],
        num_classes,
        n_boot=n_boot,
        seed=seed,
        groups=[i["patient_id"] for i in items],
    )
    return summarise(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mias", type=Path, default=ROOT.parent / "shared" / "data" / "mini-mias")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--patch-pretrain",
        action="store_true",
        help="each fold first pretrains the ResNet-50 on lesion / normal-tissue patches (pretrain_patches.yaml)",
    )
    parser.add_argument("--patch-epochs", type=int, default=20, help="epochs of the patch stage")
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="more settings of the whole-image training (e.g. freeze_until=layer3); the patch stage keeps the defaults",
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/mias_ablation"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_mias_ablation.json")
    args = parser.parse_args()
    extra = parse_settings(parser, args.set)
    if not (args.mias / "Info.txt").is_file():
        raise SystemExit(f"--mias {args.mias}: no Info.txt there; point it at the shared mini-MIAS folder.")

    args.work.mkdir(parents=True, exist_ok=True)
    datalists = make_datalists(args.mias, args.work, args.folds, args.seed)
    settings = {
        "image_size": args.image_size,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "folds": args.folds,
        "seed": args.seed,
        "n_boot": args.n_boot,
        "threads": args.threads or torch.get_num_threads(),
        "bundle": "bundles/mammo_stn_classifier (train.yaml's defaults otherwise)",
    }
    if extra:
        settings["set"] = extra
    if args.patch_pretrain:
        settings["patch_pretrain"] = {"config": "pretrain_patches.yaml", "patch_epochs": args.patch_epochs}
    result: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__},
        "settings": settings,
        "tasks": {},
    }
    if args.out.is_file():  # keep the rows of earlier (resumed) invocations
        old = json.loads(args.out.read_text())
        if old.get("settings") == settings:
            result["tasks"] = old.get("tasks", {})
    suffix = ("_lesion_patches" if args.patch_pretrain else "") + "".join(f"_{k}-{v}" for k, v in extra.items())
    pretrain: dict[str, Any] = {}
    if args.patch_pretrain:  # the patch stage keeps the bundle's defaults for the --set keys
        defaults = ConfigParser.load_config_files([str(CONFIG)])
        patch_stage = {"patch_epochs": args.patch_epochs, **{k: defaults[k] for k in extra}}
        pretrain = {"pretrain_config": PATCH_PRETRAIN, "pretrain_overrides": patch_stage}
    for task in args.tasks:
        num_classes = TASKS[task]
        rows = result["tasks"].setdefault(task, {})
        rows["majority_class"] = majority_baseline(datalists[task], num_classes, args.n_boot, args.seed)
        for model in args.models:
            run = args.work / f"{task}_{model}{suffix}"
            done = run / "cross_validation.json"
            start = time.perf_counter()
            if done.is_file():
                cv = json.loads(done.read_text())
            else:
                overrides = {
                    "datalist": str(datalists[task]),
                    "num_classes": num_classes,
                    "class_names": ["normal", "benign", "malignant"] if num_classes == 3 else ["normal", "abnormal"],
                    "image_size": args.image_size,
                    "epochs": args.epochs,
                    "batch_size": args.batch_size,
                    "seed": args.seed,
                    "n_boot": 0,
                    "num_threads": args.threads,
                    **MODELS[model],
                    **extra,
                }
                cv = cross_validate(
                    CONFIG,
                    args.folds,
                    run,
                    overrides=overrides,
                    n_boot=args.n_boot,
                    seed=args.seed,
                    **pretrain,
                )
            row: dict[str, Any] = {
                "pooled": summarise(cv["pooled"]),
                "per_fold_mean_sd": {m: cv["summary"][m] for m in METRICS if m in cv["summary"]},
                "confusion_matrix": cv["pooled"]["confusion_matrix"],
                "num_cases": cv["pooled"]["num_cases"],
                "num_women": cv["pooled"]["num_groups"],
                "train_minutes": round(sum(f.get("seconds", 0.0) for f in cv["per_fold"]) / 60, 1),
                "validation_auc": validation_auc(run, args.folds),
            }
            if args.patch_pretrain:
                row["patch_validation_auc"] = validation_auc(run, args.folds, "models/patches")
            if task == "3class":
                predictions = json.loads((run / "predictions.json").read_text())
                row["as_normal_vs_abnormal"] = derived_binary(predictions, args.n_boot, args.seed)
            rows[model] = row
            print(f"{task} {model}: {json.dumps(row['pooled'])} ({time.perf_counter() - start:.0f} s)", flush=True)
            if "resnet50" in rows and model != "resnet50":
                rows[model]["minus_resnet50"] = {
                    m: round(row["pooled"][m]["value"] - rows["resnet50"]["pooled"][m]["value"], 4)
                    for m in row["pooled"]
                    if m in rows["resnet50"]["pooled"]
                }
            atomic_write_text(args.out, json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
