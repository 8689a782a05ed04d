"""bundles/breast_cross_transfer: the run ids through `python -m monai.bundle run` in a subprocess, on tiny data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from monai.bundle import ConfigParser

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "bundles" / "breast_cross_transfer" / "configs"
TINY = [
    "--backbone", "small_cnn_classifier", "--backbone_kwargs", "{'channels': [4, 8]}", "--image_size", "32",
    "--finetune_epochs", "1", "--batch_size", "4", "--n_boot", "20", "--alphas", "[0.0, 0.5, 1.0]",
    "--num_threads", "1",
    "--synthetic", "{'num_images': 48, 'image_size': 64, 'modality': 'both', 'folds': 5, 'test_fraction': 0.2}",
]  # fmt: skip


def _run(run_id: str, configs: list[str], args: list[str]) -> str:
    files = [str(CONFIGS / c) for c in configs]
    config = files[0] if len(files) == 1 else str(files)
    cmd = [sys.executable, "-m", "monai.bundle", "run", run_id, "--config_file", config, *args]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """On the synthetic default data of both modalities (generated into an empty dataset_dir): `pretrain` for one
    epoch, then `training` with two: the pretraining resumes, the other phases follow."""
    folder = tmp_path_factory.mktemp("cross_transfer")
    (folder / "dataset").mkdir()
    args = [*TINY, "--dataset_dir", str(folder / "dataset"), "--run_dir", str(folder / "run")]
    first = _run("pretrain", ["train.yaml"], [*args, "--pretrain_epochs", "1"])
    second = _run("training", ["train.yaml"], [*args, "--pretrain_epochs", "2", "--label_fraction", "0.5"])
    return folder / "run", args, first, second


def test_pretrain_run_id_runs_only_the_first_phase(trained):
    run_dir, _, first, _ = trained
    modalities = {
        item["modality"] for item in json.loads((run_dir.parent / "dataset" / "datalist.json").read_text())["training"]
    }
    assert modalities == {"MG", "US"}
    assert "CrossModalTrainer" in first and "CrossModalTransfer" not in first
    assert (run_dir / "models" / "pretrain" / "model.pt").is_file()


def test_training_resumes_and_runs_all_phases(trained):
    run_dir, _, _, second = trained
    assert "going on from epoch 1 of 2" in second
    for phase in ("pretrain", "finetune_MG", "finetune_US"):
        assert (run_dir / "models" / phase / "model.pt").is_file(), phase
    assert "cross-modal transfer: a = " in second
    report = json.loads((run_dir / "eval" / "test_report.json").read_text())
    assert {"accuracy", "precision", "recall", "f1", "auc"} <= set(report["metrics"])
    assert len(report["metrics"]["auc"]["ci"]) == 2


@pytest.mark.parametrize(
    "overlay, run_id, output",
    [
        ("evaluate.yaml", "evaluating", "test_predictions.json"),
        ("inference.yaml", "inferring", "inference/predictions.json"),
    ],
)
def test_overlays_use_the_transferred_model(trained, overlay, run_id, output):
    run_dir, args, _, _ = trained
    _run(run_id, ["train.yaml", overlay], args)
    records = json.loads((run_dir / "eval" / output).read_text())
    records = records["predictions"] if isinstance(records, dict) else records
    test = json.loads((run_dir.parent / "dataset" / "datalist.json").read_text())["test"]
    assert len(records) == sum(item["modality"] == "US" for item in test)  # the target's test items


def test_multi_gpu_overlay_references_resolve():
    parser = ConfigParser()
    parser.read_config([str(CONFIGS / "train.yaml"), str(CONFIGS / "multi_gpu_train.yaml")])
    parser.read_meta(str(CONFIGS / "metadata.json"))
    for key in (
        "network#find_unused_parameters",
        "finetune_target#sampler",
        "target_val_loader#sampler",
        "pretraining#trainer#train_handlers",
        "training",
        "pretrain",
        "finetune",
        "transfer",
        "run",
    ):
        assert parser.get(key) is not None, key
    assert parser.get("_meta_#network_data_format#outputs#pred#num_channels") == parser.get("num_classes")
