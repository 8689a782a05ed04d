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


def main() -> None:
    outputs: dict[str, str] = {}
    mias = RESULTS / "bench_mias_ablation.json"
    if mias.is_file():
        outputs.update(mias_tables(json.loads(mias.read_text())))
    breastmnist = RESULTS / "bench_breastmnist.json"
    if breastmnist.is_file():
        outputs["breastmnist"] = breastmnist_table(json.loads(breastmnist.read_text()))
    for name, text in outputs.items():
        atomic_write_text(TABLES / f"{name}.md", text)
        print(f"wrote {TABLES / name}.md")


if __name__ == "__main__":
    main()
