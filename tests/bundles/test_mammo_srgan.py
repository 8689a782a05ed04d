"""The SRGAN bundle end to end on tiny synthetic data: training, resume after a kill, evaluation, inference,
torchrun with gloo, MONAI's bundle checks, and bad overrides failing at start."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ckpt_export, verify_metadata, verify_net_in_out
from monai.bundle.scripts import create_workflow
from PIL import Image

from monai_mammo.transforms import CropBreastd, LoadMammogramd

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "bundles" / "mammo_srgan"
CONFIGS = BUNDLE / "configs"
TRAIN = str(CONFIGS / "train.yaml")
SCHEMA = ROOT / "bundles" / "schema" / "meta_schema_monai_mammo.json"
TIMEOUT = 300

# tiny images and networks: 32x32 HR images, 16x16 HR patches (8x8 LR), a one-block generator
TINY = {
    "image_size": 32,
    "patch_size": 16,
    "patches_per_image": 2,
    "batch_size": 4,
    "g_channels": 8,
    "g_blocks": 1,
    "d_channels": "[8, 8, 16, 16, 16, 16]",
    "synthetic#num_images": 16,  # 8 synthetic women
    "synthetic#folds": 3,
    "synthetic#image_size": 64,
}


def _configs(*overlays: str) -> str:
    return str([TRAIN, *(str(CONFIGS / name) for name in overlays)])


def _args(run_dir: Path, dataset_dir: Path, **override: object) -> list[str]:
    args = {**TINY, "run_dir": str(run_dir), "dataset_dir": str(dataset_dir), **override}
    return [item for key, value in args.items() for item in (f"--{key}", str(value))]


def _bundle(run_id: str, config: str, args: list[str], launcher: list[str] | None = None) -> list[str]:
    launcher = launcher or [sys.executable, "-m"]
    return [*launcher, "monai.bundle", "run", run_id, "--config_file", config, *args]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-8000:], sep="\n")
    return proc


def _phases(log: str) -> list[tuple[int, int, str]]:
    return [(int(a), int(b), c) for a, b, c in re.findall(r"epoch (\d+) of (\d+): (\w+) phase", log)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One training (1 pretrain + 1 GAN epoch) on synthetic data generated into an empty dataset folder."""
    base = tmp_path_factory.mktemp("srgan")
    dataset, run = base / "dataset", base / "run"
    dataset.mkdir()
    proc = _run(_bundle("training", TRAIN, _args(run, dataset, pretrain_epochs=1, gan_epochs=1)))
    assert proc.returncode == 0
    (base / "train.log").write_text(proc.stdout + proc.stderr)
    return {"dataset": dataset, "run": run, "log": base / "train.log"}


def test_training_generates_data_trains_both_phases_and_saves(trained: dict[str, Path]) -> None:
    log = trained["log"].read_text()
    assert "generating the synthetic default dataset" in log
    assert (trained["dataset"] / "datalist.json").is_file()
    assert _phases(log) == [(1, 2, "pretrain"), (2, 2, "gan")]
    assert "psnr_bicubic" in log and "best validation PSNR" in log
    models = trained["run"] / "models"
    assert (models / "model.pt").is_file() and (models / "checkpoint_epoch=2.pt").is_file()
    ckpt = torch.load(models / "checkpoint_epoch=2.pt", map_location="cpu", weights_only=False)
    assert {"trainer", "generator", "g_optimizer", "discriminator", "d_optimizer"} <= set(ckpt)
    assert ckpt["trainer"]["iteration"] == 2 * ckpt["trainer"]["epoch_length"]  # ignite saves the iteration
    assert list((trained["run"] / "eval").glob("events.out.tfevents.*"))  # TensorBoard


def test_evaluate_on_checkpoint(trained: dict[str, Path]) -> None:
    proc = _run(_bundle("evaluating", _configs("evaluate.yaml"), _args(trained["run"], trained["dataset"])))
    assert proc.returncode == 0
    metrics = (trained["run"] / "eval" / "metrics.csv").read_text()
    for name in ("psnr", "ssim", "psnr_bicubic", "ssim_bicubic", "psnr_gain_db", "ssim_gain"):
        assert re.search(rf"^{name},-?\d", metrics, re.M), metrics
    assert "Restored all variables from" in proc.stdout + proc.stderr


def test_inference_writes_sr_images(trained: dict[str, Path]) -> None:
    proc = _run(_bundle("inference", _configs("inference.yaml"), _args(trained["run"], trained["dataset"])))
    assert proc.returncode == 0
    datalist = json.loads((trained["dataset"] / "datalist.json").read_text())
    written = sorted((trained["run"] / "eval" / "sr").glob("*_sr.png"))
    assert len(written) == len(datalist["test"]) > 0
    image = np.asarray(Image.open(written[0]))
    source = next(
        Path(item["image"]) for item in datalist["test"] if Path(item["image"]).stem + "_sr" == written[0].stem
    )
    crop = CropBreastd("image", mask_key="mask")(LoadMammogramd("image")({"image": str(trained["dataset"] / source)}))
    assert image.dtype == np.uint16 and image.shape == tuple(2 * s for s in crop["image"].shape[1:])  # x2


def test_bundle_checks(trained: dict[str, Path], tmp_path: Path) -> None:
    verify_metadata(meta_file=str(CONFIGS / "metadata.json"), filepath=str(SCHEMA))
    verify_net_in_out(
        net_id="network_def", meta_file=str(CONFIGS / "metadata.json"), config_file=TRAIN, any=16, g_channels=8
    )
    ts = tmp_path / "generator.ts"
    ckpt_export(
        net_id="network_def",
        filepath=str(ts),
        ckpt_file=str(trained["run"] / "models" / "model.pt"),
        meta_file=str(CONFIGS / "metadata.json"),
        config_file=TRAIN,
        g_channels=8,
        g_blocks=1,
    )
    exported = torch.jit.load(str(ts))
    assert exported(torch.rand(1, 1, 8, 8)).shape == (1, 1, 16, 16)


def test_killed_training_resumes_in_the_right_phase(trained: dict[str, Path], tmp_path: Path) -> None:
    args = _args(tmp_path / "run", trained["dataset"], pretrain_epochs=2, gan_epochs=4, patches_per_image=4)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        _bundle("training", TRAIN, args), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    first = tmp_path / "run" / "models" / "checkpoint_epoch=1.pt"
    deadline = time.monotonic() + TIMEOUT
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    saved = [int(re.search(r"=(\d+)", p.name).group(1)) for p in (tmp_path / "run" / "models").glob("checkpoint_*")]
    assert saved and max(saved) < 6, "the training finished before it was killed"
    resumed = _run(_bundle("run", TRAIN, args))  # `run` is the other run id (MONAI Label's)
    assert resumed.returncode == 0
    log = resumed.stdout + resumed.stderr
    assert f"going on from epoch {max(saved)} of 6" in log
    phases = _phases(log)
    assert [e for e, _, _ in phases] == list(range(max(saved) + 1, 7))
    assert all(phase == ("pretrain" if e <= 2 else "gan") for e, _, phase in phases)
    ckpt = torch.load(tmp_path / "run" / "models" / "checkpoint_epoch=6.pt", map_location="cpu", weights_only=False)
    assert ckpt["trainer"]["iteration"] == 6 * ckpt["trainer"]["epoch_length"]


def test_torchrun_two_processes_gloo(trained: dict[str, Path], tmp_path: Path) -> None:
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2", "-m"]
    args = _args(tmp_path / "run", trained["dataset"], pretrain_epochs=1, gan_epochs=1)
    proc = _run(_bundle("training", _configs("multi_gpu_train.yaml"), args, launcher=torchrun))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert _phases(log) == [(1, 2, "pretrain"), (2, 2, "gan")]  # logged by rank 0 only
    ckpt = torch.load(tmp_path / "run" / "models" / "checkpoint_epoch=2.pt", map_location="cpu", weights_only=False)
    assert not any(k.startswith("module.") for k in ckpt["generator"])  # saved unwrapped from DDP
    assert (tmp_path / "run" / "models" / "model.pt").is_file()


@pytest.mark.parametrize(
    "override,error,match",
    [
        ({"scale_factor": 3}, ValueError, r"scale_factor must be one of \(2, 4\)"),
        ({"patch_size": 15}, ValueError, "patch_size must be positive multiples of scale_factor=2"),
        ({"dataset_dir": "/nonexistent/mammo_data"}, FileNotFoundError, "dataset_dir '/nonexistent/mammo_data' does"),
        ({"datalist": "/nonexistent/datalist.json"}, FileNotFoundError, "datalist '/nonexistent/datalist.json'"),
    ],
)
def test_bad_overrides_fail_at_start(tmp_path: Path, override: dict, error: type, match: str) -> None:
    args = {**TINY, "run_dir": str(tmp_path / "run"), "dataset_dir": str(tmp_path), **override}
    with pytest.raises(RuntimeError) as info:  # MONAI wraps the error of a config expression
        create_workflow(config_file=TRAIN, logging_file=False, **args)
    cause = info.value.__cause__
    assert isinstance(cause, error) and re.search(match, str(cause)), repr(cause)
    assert not (tmp_path / "run").exists()  # nothing trained, nothing written
