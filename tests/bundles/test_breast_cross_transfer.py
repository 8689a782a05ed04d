"""bundles/breast_cross_transfer: the run ids through `python -m monai.bundle run` in a subprocess, on tiny data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from monai.bundle import ConfigParser

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "bundles" / "breast_cross_transfer" / "configs"
TINY = [
    "--backbone", "small_cnn_classifier", "--backbone_kwargs", "{'channels': [4, 8]}", "--image_size", "32",
    "--finetune_epochs", "1", "--batch_size", "4", "--n_boot", "20", "--alphas", "[0.0, 0.5, 1.0]",
    "--num_threads", "1",
    "--synthetic", "{'num_images': 48, 'image_size': 64, 'modality': 'both', 'folds': 5, 'test_fraction': 0.2}",
]  # fmt: skip


def _call(run_id: str, configs: list[str], args: list[str]) -> subprocess.CompletedProcess:
    files = [str(CONFIGS / c) for c in configs]
    config = files[0] if len(files) == 1 else str(files)
    cmd = [sys.executable, "-m", "monai.bundle", "run", run_id, "--config_file", config, *args]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


def _run(run_id: str, configs: list[str], args: list[str]) -> str:
    proc = _call(run_id, configs, args)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """On the synthetic default data of both modalities (generated into an empty dataset_dir): `pretrain` for one
    epoch (keeping its full checkpoint), then `training` with two: the pretraining goes on, the other phases
    follow."""
    folder = tmp_path_factory.mktemp("cross_transfer")
    (folder / "dataset").mkdir()
    args = [*TINY, "--dataset_dir", str(folder / "dataset"), "--run_dir", str(folder / "run")]
    keep = ["--pretraining#resume#keep_when_finished", "$None"]  # a full checkpoint, to train the phase on
    first = _run("pretrain", ["train.yaml"], [*args, "--pretrain_epochs", "1", *keep])
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
        "finetuning#sampler",
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


def test_pretraining_tensorboard_has_the_losses_and_auc(trained):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    run_dir = trained[0]
    tags = {v.tag for f in (run_dir / "eval" / "pretrain").iterdir() for e in EventFileLoader(str(f)).Load()
            for v in e.summary.value}  # fmt: skip
    assert {"loss", "loss_MG", "loss_US", "val_auc"} <= tags


def test_finished_phases_keep_small_checkpoints(trained):
    run_dir = trained[0]
    for phase in ("pretrain", "finetune_MG", "finetune_US"):
        (checkpoint,) = (run_dir / "models" / phase).glob("checkpoint_*.pt")
        assert "network" not in torch.load(checkpoint, weights_only=True), phase
        assert checkpoint.stat().st_size < 200_000, phase


def _state(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_killed_training_resumes_to_the_model_of_a_straight_run(tmp_path):
    """Killed after the first of two fine-tuning epochs on the target modality and started again (the finished
    phases resume from their small checkpoints), the run ends with the fine-tuned and the transferred models, bit
    for bit, of a run that went straight through: every phase's checkpoint holds the random states."""
    (tmp_path / "dataset").mkdir()
    base = [*TINY, "--dataset_dir", str(tmp_path / "dataset"), "--finetune_epochs", "2", "--pretrain_epochs", "1"]
    base += ["--finetuning#resume#keep_when_finished", "$None"]  # the fine-tuned network stays in the checkpoints
    _run("training", ["train.yaml"], [*base, "--run_dir", str(tmp_path / "straight")])
    kill = (
        "$[@finetuning#trainer.add_event_handler(ignite.engine.Events.EPOCH_COMPLETED(once=1), lambda e: os._exit(3))"
        " if @finetune_modality == 'US' else None, @finetuning#trainer.run()]"
    )
    args = [*base, "--run_dir", str(tmp_path / "run")]
    assert _call("training", ["train.yaml"], [*args, "--finetune_one#3", kill]).returncode == 3
    assert (tmp_path / "run" / "models" / "finetune_US" / "checkpoint_epoch=1.pt").is_file()
    second = _run("training", ["train.yaml"], args)
    assert "going on from epoch 1 of 2" in second
    for path in ("finetune_US/checkpoint_epoch=2.pt", "model.pt"):
        expected, actual = _state(tmp_path / "straight" / "models" / path), _state(tmp_path / "run" / "models" / path)
        expected, actual = expected.get("network", expected), actual.get("network", actual)
        assert expected.keys() == actual.keys() and all(torch.equal(expected[k], actual[k]) for k in expected), path


def test_unknown_override_and_missing_model_fail_in_one_line(tmp_path):
    typo = _call("transfer", ["train.yaml"], ["--run_dir", str(tmp_path), "--finetune_epoch", "1"])
    assert typo.returncode == 1
    last = typo.stderr.strip().splitlines()[-1]
    assert last.startswith("ConfigOverrideError: unknown override --finetune_epoch (did you mean --finetune_epochs")
    assert last.endswith("no such key in train.yaml; nothing was run.")
    missing = _call("evaluating", ["train.yaml", "evaluate.yaml"], ["--run_dir", str(tmp_path)])
    assert missing.returncode == 1
    assert (
        missing.stderr.strip()
        .splitlines()[-1]
        .startswith(
            f"FileNotFoundError: no transferred model at {tmp_path / 'models' / 'model.pt'}: run `training` first"
        )
    )
