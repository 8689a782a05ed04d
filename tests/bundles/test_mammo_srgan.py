"""The SRGAN bundle end to end on tiny synthetic data: training, resume after a kill, evaluation, inference,
torchrun with gloo, MONAI's bundle checks, and bad overrides failing at start."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ckpt_export, verify_metadata, verify_net_in_out
from monai.bundle.scripts import create_workflow
from PIL import Image

from monai_mammo.apps.bundle_config import ConfigOverrideError
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
    ckpt = torch.load(models / "checkpoint_epoch=2.pt", map_location="cpu", weights_only=True)
    assert set(ckpt) == {"trainer", "best", "rng", "finished"}  # finished: no networks/optimisers (model.pt has G)
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


def _networks(checkpoint: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    return {f"{net}.{k}": v for net in ("generator", "discriminator") for k, v in ckpt[net].items()}


def test_killed_training_resumes_to_the_weights_of_a_straight_run(trained: dict[str, Path], tmp_path: Path) -> None:
    """Killed mid-epoch in the GAN phase and started again from the last epoch checkpoint, the run goes on in the
    right phase and ends with the generator and discriminator, bit for bit, of a run that went straight through
    (the checkpoint holds the random states of patch sampling and shuffling)."""
    full = {"train#resume#keep_when_finished": "$None"}  # keep the networks in the last checkpoint to compare them
    straight = _args(tmp_path / "straight", trained["dataset"], pretrain_epochs=1, gan_epochs=2, **full)
    assert _run(_bundle("training", TRAIN, straight)).returncode == 0
    args = _args(tmp_path / "run", trained["dataset"], pretrain_epochs=1, gan_epochs=2, **full)
    kill = (
        "$@train#trainer.add_event_handler(ignite.engine.Events.ITERATION_COMPLETED, lambda e: os._exit(3)"
        " if e.state.epoch == 2 and e.state.iteration % e.state.epoch_length == 2 else None)"
    )  # dies at the second iteration of epoch 2 (the first GAN epoch), as a killed process would
    killed = _run(_bundle("training", TRAIN, [*args, "--training#0", kill]))
    assert killed.returncode == 3
    models = tmp_path / "run" / "models"
    assert sorted(p.name for p in models.glob("checkpoint_*")) == ["checkpoint_epoch=1.pt"]
    resumed = _run(_bundle("run", TRAIN, args))  # `run` is the other run id (MONAI Label's)
    assert resumed.returncode == 0
    log = resumed.stdout + resumed.stderr
    assert "going on from epoch 1 of 3" in log
    assert _phases(log) == [(2, 3, "gan"), (3, 3, "gan")]
    expected = _networks(tmp_path / "straight" / "models" / "checkpoint_epoch=3.pt")
    actual = _networks(models / "checkpoint_epoch=3.pt")
    assert expected.keys() == actual.keys() and all(torch.equal(expected[k], actual[k]) for k in expected)


def test_full_resolution_edsr_recipe_trains_and_evaluates_with_self_ensemble(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    """keep_resolution (crops only padded), g_norm none, pixel_criterion l1, a cosine schedule, then evaluating with
    self_ensemble."""
    recipe = {
        "image_size": 64,
        "keep_resolution": "true",
        "g_norm": "none",
        "pixel_criterion": "l1",
        "g_lr_schedule": "cosine",
    }
    args = _args(tmp_path, trained["dataset"], pretrain_epochs=1, gan_epochs=0, **recipe)
    proc = _run(_bundle("training", TRAIN, args))
    assert proc.returncode == 0
    state = torch.load(tmp_path / "models" / "model.pt", map_location="cpu", weights_only=True)
    assert state and not any("running_mean" in k for k in state)  # no batch norm in the generator
    proc = _run(
        _bundle(
            "evaluating",
            _configs("evaluate.yaml"),
            [*_args(tmp_path, trained["dataset"], **recipe), "--self_ensemble", "true"],
        )
    )
    assert proc.returncode == 0
    assert re.search(r"^psnr_gain_db,-?\d", (tmp_path / "eval" / "metrics.csv").read_text(), re.M)
    small = _run(
        _bundle("training", TRAIN, _args(tmp_path / "small", trained["dataset"], **{**recipe, "image_size": 16}))
    )
    assert small.returncode != 0
    last = small.stderr.strip().splitlines()[-1]
    assert re.search(r"\.png: its breast crop is \(\d+, \d+\) pixels, larger than image_size=16", last), last


def test_interior_patches_lie_in_the_breast_and_turn_with_their_mask(trained: dict[str, Path], tmp_path: Path) -> None:
    """patch_region interior: every training patch lies wholly in the breast mask; patch_augment adds the random
    flips and quarter turns (HR patch and mask together, before the LR input is made); the defaults add neither."""
    args = {**TINY, "image_size": 64, "run_dir": str(tmp_path), "dataset_dir": str(trained["dataset"])}
    default = create_workflow(config_file=TRAIN, logging_file=False, **args)
    names = [type(t).__name__ for t in default.parser.get_parsed_content("patch_transforms")]
    assert names == ["RandCropByPosNegLabeld", "DeleteItemsd"]
    interior = {**args, "patch_region": "interior", "patch_augment": True, "patches_per_image": 8}
    flow = create_workflow(config_file=TRAIN, logging_file=False, **interior)
    names = [type(t).__name__ for t in flow.parser.get_parsed_content("patch_transforms")]
    assert names == ["CopyItemsd", "Lambdad", "RandCropByPosNegLabeld", "DeleteItemsd", "RandFlipd", "RandRotate90d"]
    preprocessing = flow.parser.get_parsed_content("train#preprocessing")
    for item in flow.parser.get_parsed_content("data")["train"][:4]:
        for patch in preprocessing(item):
            assert "patch_centres" not in patch
            assert patch["breast_mask"].shape[-2:] == (16, 16) and bool((patch["breast_mask"] > 0).all())
            assert patch["lr"].shape[-2:] == (8, 8)


def test_missing_generator_says_where_and_to_train_first(tmp_path: Path) -> None:
    proc = _run(_bundle("inference", _configs("inference.yaml"), _args(tmp_path / "run", tmp_path)))
    model = tmp_path / "run" / "models" / "model.pt"
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(f"FileNotFoundError: no trained generator at {model}: run `training` first")
    )


def test_torchrun_two_processes_gloo(trained: dict[str, Path], tmp_path: Path) -> None:
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2", "-m"]
    args = _args(tmp_path / "run", trained["dataset"], pretrain_epochs=1, gan_epochs=1)
    proc = _run(_bundle("training", _configs("multi_gpu_train.yaml"), args, launcher=torchrun))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert _phases(log) == [(1, 2, "pretrain"), (2, 2, "gan")]  # logged by rank 0 only
    model = torch.load(tmp_path / "run" / "models" / "model.pt", map_location="cpu", weights_only=True)
    assert model and not any(k.startswith("module.") for k in model)  # saved unwrapped from DDP


@pytest.mark.parametrize(
    "override,error,match",
    [
        ({"scale_factor": 3}, ValueError, r"scale_factor must be one of \(2, 4\)"),
        ({"patch_size": 15}, ValueError, "patch_size must be positive multiples of scale_factor=2"),
        ({"dataset_dir": "/nonexistent/mammo_data"}, FileNotFoundError, "dataset_dir '/nonexistent/mammo_data' does"),
        ({"datalist": "/nonexistent/datalist.json"}, FileNotFoundError, "datalist '/nonexistent/datalist.json'"),
        ({"scale_factr": 2}, ConfigOverrideError, r"unknown override --scale_factr \(did you mean --scale_factor "),
        ({"pixel_criterion": "l2"}, ValueError, r"pixel_criterion must be one of \['mse', 'l1'\], got 'l2'"),
        ({"g_norm": "bach"}, ValueError, r"g_norm must be none or one of MONAI's norms \['batch', "),
        ({"self_ensemble": 2}, ConfigOverrideError, "--self_ensemble must be true or false, got 2"),
        ({"g_lr_schedule": "cosin"}, ValueError, r"g_lr_schedule must be one of \['constant', 'cosine'\], got 'cosin'"),
        ({"patch_region": "middle"}, ValueError, r"patch_region must be one of \['breast', 'interior'\], got 'middle'"),
        ({"patch_augment": 3}, ConfigOverrideError, "--patch_augment must be true or false, got 3"),
        (
            {"synthetic#num_imagez": 2},
            ConfigOverrideError,
            r"--synthetic#num_imagez \(did you mean --synthetic#num_images",
        ),
    ],
)
def test_bad_overrides_fail_at_start(tmp_path: Path, override: dict, error: type, match: str) -> None:
    args = {**TINY, "run_dir": str(tmp_path / "run"), "dataset_dir": str(tmp_path), **override}
    with pytest.raises(RuntimeError) as info:  # MONAI wraps the error of a config expression
        create_workflow(config_file=TRAIN, logging_file=False, **args)
    cause = info.value.__cause__
    assert isinstance(cause, error) and re.search(match, str(cause)), repr(cause)
    assert not (tmp_path / "run").exists()  # nothing trained, nothing written
