"""Render the benchmark JSONs in ``benchmarks/results`` as the Markdown tables of the docs' results page.

Usage::

    python benchmarks/make_results_tables.py  # writes docs/source/_tables/*.md

The results page (``docs/source/results.md``) includes these files, so the figures in the docs are the ones in
the JSONs, not copies typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monai_mammo.utils import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TABLES = ROOT / "docs" / "source" / "_tables"
METRICS = ("accuracy", "sensitivity", "specificity", "f1", "auc")
NAMES = {
    "majority_class": "majority class (baseline)",
    "resnet50": "ResNet50",
    "stn_resnet50": "STN-ResNet50",
    "srgan_stn_resnet50": "SRGAN-STN-ResNet50",
}


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "n/a"
    low, high = entry["ci"]
    return f"{entry['value']:.3f} [{low:.3f}, {high:.3f}]"


def _table(rows: dict[str, dict[str, Any]]) -> str:
    lines = ["| model | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    for name, metrics in rows.items():
        lines.append(f"| {NAMES.get(name, name)} | " + " | ".join(_cell(metrics.get(m)) for m in METRICS) + " |")
    return "\n".join(lines) + "\n"


def mias_tables(result: dict[str, Any]) -> dict[str, str]:
    tables = {}
    tasks = result["tasks"]
    for task, rows in tasks.items():
        pooled = {name: (row if name == "majority_class" else row["pooled"]) for name, row in rows.items()}
        tables[f"mias_{task}"] = _table(pooled)
        trained = {n: r for n, r in rows.items() if n != "majority_class"}
        minutes = ", ".join(f"{NAMES[n]} {r['train_minutes']} min" for n, r in trained.items())
        tables[f"mias_{task}"] += f"\nTraining and prediction time, 5 folds: {minutes}.\n"
    if "3class" in tasks:
        derived = {n: r["as_normal_vs_abnormal"] for n, r in tasks["3class"].items() if "as_normal_vs_abnormal" in r}
        tables["mias_3class_as_binary"] = _table(derived)
        matrices = ["| model | confusion matrix (rows true N/B/M, columns predicted) |", "|---|---|"]
        for name, row in tasks["3class"].items():
            if "confusion_matrix" in row:
                matrices.append(f"| {NAMES[name]} | {row['confusion_matrix']} |")
        tables["mias_3class_confusion"] = "\n".join(matrices) + "\n"
    return tables


def breastmnist_table(result: dict[str, Any]) -> str:
    rows = result["rows"]
    lines = ["| model | test AUC | test ACC | source |", "|---|---|---|---|"]
    for name, ref in result["medmnist_v2_table"].items():
        lines.append(f"| {name} | {ref['auc']:.3f} | {ref['accuracy']:.3f} | MedMNIST v2 paper |")
    lines.append(
        f"| logistic regression on pixels (baseline) | {_cell(rows['logistic_pixels']['auc'])} | "
        f"{_cell(rows['logistic_pixels']['accuracy'])} | this run |"
    )
    for run in result["runs"]:
        lines.append(
            f"| ResNet-18 (28), seed {run['seed']}, epoch {run['best_epoch']} by val AUC | "
            f"{_cell(run['test']['auc'])} | {_cell(run['test']['accuracy'])} | this run |"
        )
    ens = rows["ensemble"]
    lines.append(
        f"| **ensemble of the {len(result['runs'])} seeds** | **{_cell(ens['auc'])}** | **{_cell(ens['accuracy'])}** "
        "| this run |"
    )
    minutes = sum(r["seconds"] for r in result["runs"]) / 60
    return "\n".join(lines) + f"\n\nTraining time, all seeds: {minutes:.0f} min.\n"


SR_MODELS = {
    "srresnet_mse": "model.pt after MSE pretraining",
    "bundle_model": "model.pt at the end (best val. PSNR)",
    "srgan_last_epoch": "last GAN epoch",
    "bundle_model_self_ensemble": "model.pt, self_ensemble (x8)",
}
CROSS_METRICS = ("accuracy", "sensitivity", "precision", "f1", "auc")


def _gain(entry: dict[str, Any], digits: int) -> str:
    low, high = entry["ci"]
    return f"{entry['value']:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def sr_table(results: list[dict[str, Any]], labels: list[str] | None = None) -> str:
    """The SR benchmark's runs (one per scale): per generator and region, model and bicubic, gains with CIs;
    ``labels`` (one per run) go after the generator's name."""
    lines = [
        "| scale | generator | region | PSNR model (dB) | PSNR bicubic (dB) | PSNR gain (dB) | SSIM model "
        "| SSIM bicubic | SSIM gain |",
        "|---" * 9 + "|",
    ]
    times = []
    for i, run in enumerate(results):
        label = f" ({labels[i]})" if labels and labels[i] else ""
        for key, name in SR_MODELS.items():
            for region, r in run.get(key, {}).items():
                lines.append(
                    f"| x{run['scale']} | {name}{label} | {region} | {r['psnr']:.2f} | {r['psnr_bicubic']:.2f} | "
                    f"{_gain(r['psnr_gain_db'], 2)} | {r['ssim']:.4f} | {r['ssim_bicubic']:.4f} | "
                    f"{_gain(r['ssim_gain'], 4)} |"
                )
        epoch = run["best_validation_epoch"]
        times.append(
            f"x{run['scale']}{label}: {run['seconds_total'] / 60:.0f} min in all "
            f"({run['seconds_training'] / 60:.0f} min of training), best validation epoch {epoch}"
        )
    return "\n".join(lines) + "\n\n" + "; ".join(times) + ".\n"


def cross_transfer_tables(result: dict[str, Any]) -> dict[str, str]:
    """The cross-transfer benchmark: methods per label fraction, and cross_dim's differences to the baselines."""
    head = "| target labels | method | " + " | ".join(CROSS_METRICS) + " | AUC per seed | a per seed |"
    lines = [head, "|---" * (len(CROSS_METRICS) + 4) + "|"]
    for key, r in result["results"].items():
        method, fraction = key.split("@")
        cells = [f"{r[m]['mean']:.3f} [{r[m]['ci'][0]:.3f}, {r[m]['ci'][1]:.3f}]" for m in CROSS_METRICS]
        seeds = ", ".join(f"{v:.3f}" for v in r["auc"]["per_seed"])
        alphas = ", ".join(f"{a:g}" for a in r.get("alpha_per_seed", [])) or "-"
        lines.append(f"| {float(fraction):.0%} | `{method}` | " + " | ".join(cells) + f" | {seeds} | {alphas} |")
    diff = [
        "| target labels | difference | " + " | ".join(CROSS_METRICS) + " |",
        "|---" * (len(CROSS_METRICS) + 2) + "|",
    ]
    for key, d in result["differences"].items():
        name, fraction = key.split("@")
        diff.append(f"| {float(fraction):.0%} | `{name}` | " + " | ".join(_gain(d[m], 3) for m in CROSS_METRICS) + " |")
    minutes = sum(r["seconds"] for r in result["results"].values()) / 60
    return {
        "cross_transfer": "\n".join(lines) + f"\n\nTraining and test time, all runs: {minutes:.0f} min.\n",
        "cross_transfer_differences": "\n".join(diff) + "\n",
    }


def sr_fullres_label(settings: dict[str, Any]) -> str:
    """A full-resolution SR run's label: its learning-rate schedule, and its training patches where not the default."""
    label = f"{settings.get('g_lr_schedule', 'constant')} lr"
    if settings.get("patch_region", "breast") != "breast":
        label += f", {settings['patch_region']} patches"
    if settings.get("patch_augment", False):
        label += ", flips and turns"
    return label


def main() -> None:
    outputs: dict[str, str] = {}
    mias = RESULTS / "bench_mias_ablation.json"
    if mias.is_file():
        outputs.update(mias_tables(json.loads(mias.read_text())))
    breastmnist = RESULTS / "bench_breastmnist.json"
    if breastmnist.is_file():
        outputs["breastmnist"] = breastmnist_table(json.loads(breastmnist.read_text()))
    sr_runs = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("bench_sr_x*.json"))]
    sr_runs = [r for r in sr_runs if r["results"] and "bundle_model" in r["results"][0]]  # the bundle's runs
    if sr_runs:
        outputs["sr"] = sr_table([run for r in sr_runs for run in r["results"]])
    sr_full = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("bench_sr_fullres*_x*.json"))]
    if sr_full := [r for r in sr_full if r["results"]]:  # one table; runs labelled by their schedule and patches
        runs = [run for r in sr_full for run in r["results"]]
        labels = [sr_fullres_label(r["settings"]["set"]) for r in sr_full for _ in r["results"]]
        outputs["sr_fullres"] = sr_table(runs, labels)
    cross = RESULTS / "bench_cross_transfer.json"
    if cross.is_file() and "results" in (cross_result := json.loads(cross.read_text())):
        outputs.update(cross_transfer_tables(cross_result))
    for name, text in outputs.items():
        atomic_write_text(TABLES / f"{name}.md", text)
        print(f"wrote {TABLES / name}.md")


if __name__ == "__main__":
    main()
