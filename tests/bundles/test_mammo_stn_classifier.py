"""The mammo_stn_classifier bundle through ``python -m monai.bundle`` in subprocesses, on tiny synthetic data.

Tiny settings (32x32 images, a narrow SR generator, 1-2 epochs) keep each run to seconds on a CPU; the ResNet-50
itself is the bundle's. A training run is shared by the tests of evaluation, inference and export.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from monai.bundle import ConfigParser

from monai_mammo.data import ensure_dataset
from monai_mammo.handlers import latest_checkpoint

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "bundles" / "mammo_stn_classifier" / "configs"
SCHEMA = ROOT / "bundles" / "schema" / "meta_schema_monai_mammo.json"
TINY = {
    "image_size": 32,
    "batch_size": 6,
    "sr_channels": 4,
    "sr_blocks": 1,
    "stn_sampler": "bilinear",
    "num_threads": 1,
    "n_boot": 20,
}
# --standalone: torchrun binds a free port and holds it (a port picked here and released could be taken meanwhile by
# another test file's torchrun); the same launcher as tests/bundles/test_mammo_srgan.py
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2", "-m"]
SYNTHETIC = {"num_images": 24, "image_size": 32, "folds": 2, "test_fraction": 0.25}


def _config(*names: str) -> str:
    files = [str(CONFIGS / f"{n}.yaml") for n in names]
    return files[0] if len(files) == 1 else "[" + ",".join(repr(f) for f in files) + "]"


def _bundle(
    command: str, *args: str, overrides: dict | None = None, torchrun: bool = False
) -> subprocess.CompletedProcess:
    flags = [f"--{k}={v}" for k, v in ({**TINY, **overrides} if overrides is not None else {}).items()]
    launcher = TORCHRUN if torchrun else [sys.executable, "-m"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*launcher, "monai.bundle", command, *args, *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic dataset shared by the runs that do not test its generation."""
    folder = tmp_path_factory.mktemp("stn_dataset")
    ensure_dataset(folder, synthetic=SYNTHETIC)
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """Two epochs of training; the dataset folder starts empty, so the bundle generates the synthetic data."""
    run_dir = tmp_path_factory.mktemp("stn_run")
    empty = tmp_path_factory.mktemp("stn_generated")
    overrides = {"dataset_dir": empty, "synthetic": repr(SYNTHETIC), "run_dir": run_dir, "epochs": 2}
    result = _bundle("run", "training", "--config_file", _config("train"), overrides=overrides)
    return run_dir, _ok(result), empty


def _common(dataset: Path, run_dir: Path) -> dict:
    return {"dataset_dir": dataset, "run_dir": run_dir}


def test_training_generates_data_and_prints_the_test_report(trained: tuple[Path, str, Path]) -> None:
    run_dir, output, generated = trained
    assert "is empty, generating the synthetic default dataset" in output
    assert (generated / "datalist.json").is_file()
    assert "Epoch[2] Complete" in output
    assert "| ROC AUC |" in output and f"Model: {run_dir / 'models' / 'model.pt'}" in output
    report = json.loads((run_dir / "eval" / "test_report.json").read_text())
    assert report["num_cases"] == 6 and report["n_boot"] == 20
    assert latest_checkpoint(run_dir / "models") == run_dir / "models" / "checkpoint_epoch=2.pt"
    assert any(p.name.startswith("events.out.tfevents") for p in (run_dir / "eval").iterdir())


def test_evaluate_writes_report_and_predictions(trained: tuple[Path, str, Path]) -> None:
    run_dir, _, dataset = trained
    output = _ok(
        _bundle("run", "evaluating", "--config_file", _config("train", "evaluate"), overrides=_common(dataset, run_dir))
    )
    assert "## Evaluation" in output
    predictions = json.loads((run_dir / "eval" / "test_predictions.json").read_text())["predictions"]
    assert len(predictions) == 6 and {"image", "patient_id", "label", "pred", "probabilities"} <= set(predictions[0])


def test_inference_on_unlabelled_images(trained: tuple[Path, str, Path], tmp_path: Path) -> None:
    run_dir, _, dataset = trained
    images = sorted((dataset).rglob("*.png"))[:3]
    files = "$" + repr([{"image": str(p)} for p in images])
    overrides = {**_common(dataset, run_dir), "inference_files": files, "inference_output_dir": tmp_path}
    _ok(_bundle("run", "inferring", "--config_file", _config("train", "inference"), overrides=overrides))
    rows = (tmp_path / "predictions.csv").read_text().splitlines()
    assert rows[0].startswith("image,patient_id,label,pred,pred_name,prob_normal")
    assert [r.split(",")[0] for r in rows[1:]] == [str(p) for p in images]
    assert json.loads((tmp_path / "predictions.json").read_text())["predictions"][0]["label"] is None


def _network(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["network"]


def test_killed_training_resumes_to_the_weights_of_a_straight_run(dataset: Path, tmp_path: Path) -> None:
    """Killed after epoch 1 of 2 and started again, the run ends with the weights, bit for bit, of one that ran
    straight through: the checkpoint restores the random states too (augmentation, shuffling, dropout)."""
    full = {"train#resume#keep_when_finished": "$None"}  # keep the network in the last checkpoint to compare it
    straight = {"dataset_dir": dataset, "run_dir": tmp_path / "straight", "epochs": 2, **full}
    _ok(_bundle("run", "training", "--config_file", _config("train"), overrides=straight))
    overrides = {"dataset_dir": dataset, "run_dir": tmp_path / "run", "epochs": 2, **full}
    kill = (
        "$[@train#trainer.add_event_handler(ignite.engine.Events.EPOCH_COMPLETED(once=1), lambda e: os._exit(3)),"
        " @train#trainer.run()]"
    )  # dies right after the first epoch's checkpoint, as a killed process would
    first = _bundle("run", "training", "--config_file", _config("train"), overrides={**overrides, "training#2": kill})
    assert first.returncode == 3, (first.stdout + first.stderr)[-3000:]
    models = tmp_path / "run" / "models"
    assert latest_checkpoint(models) == models / "checkpoint_epoch=1.pt"
    # started again, with MONAI Label's run id `run` (the same as `training`)
    output = _ok(_bundle("run", "run", "--config_file", _config("train"), overrides=overrides))
    assert "going on from epoch 1 of 2" in output
    assert "SupervisedTrainer - INFO - Epoch[2] Complete" in output
    assert "SupervisedTrainer - INFO - Epoch[1] Complete" not in output
    checkpoint = torch.load(models / "checkpoint_epoch=2.pt", weights_only=True)
    assert checkpoint["trainer"]["iteration"] == 2 * checkpoint["trainer"]["epoch_length"]
    assert sorted(p.name for p in models.iterdir()) == ["checkpoint_epoch=2.pt", "model.pt"]
    expected = _network(tmp_path / "straight" / "models" / "checkpoint_epoch=2.pt")
    resumed = _network(models / "checkpoint_epoch=2.pt")
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)


def test_finished_run_keeps_a_small_checkpoint(trained: tuple[Path, str, Path]) -> None:
    """Once finished, the last checkpoint holds only the engine, best-model and random states (model.pt has the
    model): a few kB instead of the network and the optimiser's moments."""
    run_dir, _, _ = trained
    checkpoint = torch.load(run_dir / "models" / "checkpoint_epoch=2.pt", weights_only=True)
    assert set(checkpoint) == {"trainer", "best", "rng", "finished"}
    assert (run_dir / "models" / "checkpoint_epoch=2.pt").stat().st_size < 200_000


def test_multi_gpu_config_runs_on_cpu_with_gloo(dataset: Path, tmp_path: Path) -> None:
    overrides = {"dataset_dir": dataset, "run_dir": tmp_path, "epochs": 1}
    result = _bundle(
        "run", "training", "--config_file", _config("train", "multi_gpu_train"), overrides=overrides, torchrun=True
    )
    output = _ok(result)
    assert output.count("## Test set") == 1  # printed by rank 0 only
    assert (tmp_path / "models" / "model.pt").is_file()
    assert "DistributedDataParallel" not in str(torch.load(tmp_path / "models" / "model.pt", weights_only=True).keys())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dataset_dir": "/nonexistent/mammo_data"}, "dataset_dir '/nonexistent/mammo_data' does not exist"),
        ({"datalist": "/nonexistent/datalist.json"}, "datalist '/nonexistent/datalist.json' does not exist"),
        ({"num_classes": 2}, r"class count mismatch: num_classes=2"),
    ],
)
def test_bad_overrides_fail_at_start(dataset: Path, tmp_path: Path, overrides: dict, message: str) -> None:
    result = _bundle(
        "run",
        "training",
        "--config_file",
        _config("train"),
        overrides={"dataset_dir": dataset, "run_dir": tmp_path, **overrides},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert re.search(message, output), output[-3000:]
    assert "SupervisedTrainer" not in output  # failed before the trainer was built
    assert not (tmp_path / "models").exists()


def _last_lines(result: subprocess.CompletedProcess) -> tuple[str, int]:
    """The last line of stderr, and how many lines the run printed (MONAI's echo of the arguments left out)."""
    lines = [line for line in (result.stdout + result.stderr).splitlines() if " - INFO - > " not in line]
    return result.stderr.strip().splitlines()[-1], len(lines)


def test_unknown_overrides_are_refused_before_any_work(tmp_path: Path) -> None:
    """Typos that used to train the full default run silently; a nested id of a defined path passes."""
    typos = {"epoch": 1, "image_sise": 32, "data_list": "x.json", "train#dataloader#num_workerz": 2}
    overrides = {"run_dir": tmp_path, "train#dataloader#num_workers": 0, **typos}
    result = _bundle("run", "training", "--config_file", _config("train"), overrides=overrides)
    last, count = _last_lines(result)
    assert result.returncode == 1 and count < 15 and not (tmp_path / "models").exists()
    assert last.startswith("ConfigOverrideError: unknown overrides --"), last
    for hint in (
        "--epoch (did you mean --epochs?)",
        "--image_sise (did you mean --image_size or --synthetic#image_size?)",
        "--data_list (did you mean --datalist",
        "--train#dataloader#num_workerz (did you mean --train#dataloader#num_workers",
    ):
        assert hint in last


def _fault_datalists(dataset: Path, folder: Path) -> dict[str, Path]:
    datalist = json.loads((dataset / "datalist.json").read_text())
    for items in datalist.values():
        for item in items:
            item["image"] = str(dataset / item["image"])
    (folder / "broken.png").write_bytes(b"not an image")
    faults = {
        "bad_item": ("label", None),
        "missing_image": ("image", str(folder / "missing.png")),
        "unreadable_image": ("image", str(folder / "broken.png")),
    }
    paths = {}
    for name, (key, value) in faults.items():
        broken = json.loads(json.dumps(datalist))
        if value is None:
            del broken["training"][1][key]
        else:
            broken["training"][1][key] = value
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(broken))
    return paths


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("bad_item", r"^DatalistError: datalist '.*bad_item.json': training\[1\] \(image .*\) has no 'label'"),
        ("missing_image", r"^FileNotFoundError: .*missing.png: no such file"),
        ("unreadable_image", r"^MammoImageError: .*broken.png: not an image file"),
    ],
)
def test_a_fault_ends_with_its_cause_in_one_line(dataset: Path, tmp_path: Path, fault: str, message: str) -> None:
    datalist = _fault_datalists(dataset, tmp_path)[fault]
    overrides = {"datalist": datalist, "run_dir": tmp_path / "run"}
    result = _bundle("run", "training", "--config_file", _config("train"), overrides=overrides)
    last, count = _last_lines(result)
    assert result.returncode == 1 and re.search(message, last), result.stderr[-3000:]
    assert count < 15, result.stdout + result.stderr
    assert "MONAI_MAMMO_TRACEBACK=1" in result.stderr and "Traceback" not in result.stdout + result.stderr


def test_missing_model_says_where_and_to_train_first(tmp_path: Path) -> None:
    result = _bundle(
        "run", "evaluating", "--config_file", _config("train", "evaluate"), overrides={"run_dir": tmp_path}
    )
    last, count = _last_lines(result)
    assert last.startswith(f"FileNotFoundError: no trained model at {tmp_path / 'models' / 'model.pt'}: run `training`")
    assert count < 15


def test_full_traceback_on_request(tmp_path: Path) -> None:
    env = {**os.environ, "MONAI_MAMMO_TRACEBACK": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "monai.bundle", "run", "training", "--config_file", _config("train"), "--epoch", "1"]
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)  # any cwd
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr
    assert "ConfigOverrideError: unknown override --epoch" in result.stderr


def test_verify_metadata_against_the_vendored_schema(tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    shutil.copy(SCHEMA, schema)  # an existing file: verify_metadata does not download
    output = _ok(_bundle("verify_metadata", "--meta_file", str(CONFIGS / "metadata.json"), "--filepath", str(schema)))
    assert "metadata is verified with no error" in output


def test_verify_net_in_out() -> None:
    args = [
        "network_def",
        "--meta_file",
        str(CONFIGS / "metadata.json"),
        "--config_file",
        _config("train"),
        "--device",
        "cpu",
    ]
    assert "data shape of network is verified with no error" in _ok(_bundle("verify_net_in_out", *args))


def _export(ckpt: Path, filepath: Path, overrides: dict, *extra: str) -> None:
    args = ["network_def", "--filepath", str(filepath), "--meta_file", str(CONFIGS / "metadata.json")]
    args += ["--config_file", _config("train"), "--ckpt_file", str(ckpt), *extra]
    _ok(_bundle("ckpt_export", *args, overrides=overrides))


def test_ckpt_export_scripts_the_trained_model(trained: tuple[Path, str, Path], tmp_path: Path) -> None:
    run_dir, _, _ = trained
    _export(run_dir / "models" / "model.pt", tmp_path / "model.ts", {"stn_sampler": "bilinear"})
    scripted = torch.jit.load(str(tmp_path / "model.ts"))
    assert scripted(torch.rand(2, 1, 16, 16)).shape == (2, 3)


def test_ckpt_export_traces_the_blended_sampler(tmp_path: Path) -> None:
    """The bundle's default STN sampler (blended Lanczos/bilinear) does not script, and its compiled (numba)
    kernel cannot be saved in a trace; with the pure-torch Lanczos backend the network traces, and the traced
    model gives the network's output at another size."""
    parser = ConfigParser(ConfigParser.load_config_file(str(CONFIGS / "train.yaml")))
    parser.update({**TINY, "stn_sampler": "blended"})
    net = parser.get_parsed_content("network_def").eval()
    torch.save(net.state_dict(), tmp_path / "model.pt")
    overrides = {"stn_sampler": "blended", "network_def#stn#lanczos_backend": "reference"}
    trace = ("--use_trace", "True", "--input_shape", "[1,1,16,16]")
    _export(tmp_path / "model.pt", tmp_path / "model.ts", overrides, *trace)
    traced = torch.jit.load(str(tmp_path / "model.ts"))
    x = torch.rand(2, 1, 24, 24)
    with torch.no_grad():
        torch.testing.assert_close(traced(x), net(x), atol=1e-4, rtol=1e-4)


def test_ablation_switches_build_the_three_models() -> None:
    """ResNet50 (no SR, no STN), STN-ResNet50 (no SR) and SRGAN-STN-ResNet50 from the one config."""
    for use_sr, use_stn in ((False, False), (False, True), (True, True)):
        parser = ConfigParser(ConfigParser.load_config_file(str(CONFIGS / "train.yaml")))
        parser.update({**TINY, "use_sr": use_sr, "use_stn": use_stn})
        net = parser.get_parsed_content("network_def")
        assert isinstance(net.sr, torch.nn.Identity) != use_sr
        assert isinstance(net.stn, torch.nn.Identity) != use_stn
        assert parser.get_parsed_content("input_size") == (16 if use_sr else 32)
        assert len(parser.get_parsed_content("input_transforms")) == int(use_sr)
        net.eval()
        assert net(
            torch.rand(1, 1, parser.get_parsed_content("input_size"), parser.get_parsed_content("input_size"))
        ).shape == (1, 3)


@pytest.fixture(scope="module")
def mias_datalist(mias_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``prepare mias`` datalist of 24 real images: 4 women of each class (each woman's most severe), 3 folds."""
    from monai_mammo.data import mias_items

    folder = tmp_path_factory.mktemp("mias_subset")
    items = mias_items(mias_dir)
    worst = {}
    for item in items:
        worst[item["patient_id"]] = max(worst.get(item["patient_id"], 0), int(item["label"]))
    women = {w for c in range(3) for w in sorted(w for w, label in worst.items() if label == c)[:4]}
    keep = {item["refnum"] for item in items if item["patient_id"] in women}
    info = [line for line in (mias_dir / "Info.txt").read_text().splitlines() if line.strip()]
    subset = folder / "mias"
    subset.mkdir()
    (subset / "Info.txt").write_text("\n".join(line for line in info if line.split()[0] in keep) + "\n")
    for name in keep:
        (subset / f"{name}.png").symlink_to(mias_dir / f"{name}.png")
    datalist = folder / "mias.json"
    prepare = [sys.executable, "-m", "monai_mammo", "prepare", "mias", str(subset), "-o", str(datalist)]
    prepared = subprocess.run([*prepare, "--folds", "3", "--test-fraction", "0"], capture_output=True, text=True)
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    return datalist


def test_training_on_a_prepare_mias_datalist(mias_datalist: Path, tmp_path: Path) -> None:
    """One override (`--datalist`) points the bundle at real data made by `python -m monai_mammo prepare mias`:
    the datalist's per-lesion lists do not reach the data loader, and training, validation and test run."""
    output = _ok(
        _bundle(
            "run",
            "training",
            "--config_file",
            _config("train"),
            overrides={"datalist": mias_datalist, "run_dir": tmp_path / "run", "epochs": 1},
        )
    )
    assert "## Test set" in output
    assert (tmp_path / "run" / "models" / "model.pt").is_file()


def test_lesion_patch_pretraining_starts_the_whole_image_training(mias_datalist: Path, tmp_path: Path) -> None:
    """pretrain_patches.yaml trains the ResNet-50 on lesion / normal-tissue patches of the real MIAS images (the
    whole-image run's settings given to both runs unchanged) and writes its backbone in torchvision's format,
    which the whole-image training then starts from (pretrained_weights)."""
    from monai_mammo.networks.nets import ResNet50Classifier

    common = {"datalist": mias_datalist, "run_dir": tmp_path / "run", "num_classes": 3, "epochs": 1, "image_size": 128}
    output = _ok(
        _bundle(
            "run",
            "pretraining",
            "--config_file",
            _config("train", "pretrain_patches"),
            overrides={**common, "patch_epochs": 1, "patches_per_image": 4, "patch_batch_size": 8},
        )
    )
    backbone = tmp_path / "run" / "models" / "patches" / "resnet50_backbone.pt"
    assert "best validation patch AUC" in output and str(backbone) in output
    weights = torch.load(backbone, weights_only=True)
    assert "conv1.weight" in weights and not any(k.startswith(("fc.", "classifier", "head")) for k in weights)
    net = ResNet50Classifier(in_channels=1, num_classes=3, pretrained_weights=backbone, avg_down=True)
    assert torch.equal(net.backbone.conv1.weight, weights["conv1.weight"])
    assert not (tmp_path / "run" / "models" / "model.pt").exists()  # the whole-image model's place stays free
    output = _ok(
        _bundle(
            "run", "training", "--config_file", _config("train"), overrides={**common, "pretrained_weights": backbone}
        )
    )
    assert "## Test set" in output


@pytest.fixture(scope="module")
def unlocated_datalist(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic datalist without its lesion masks (absolute paths)."""
    lists = json.loads((dataset / "datalist.json").read_text())
    for items in lists.values():
        for item in items:
            item.pop("mask", None)
            item["image"] = str(dataset / item["image"])
    path = tmp_path_factory.mktemp("unlocated") / "datalist.json"
    path.write_text(json.dumps(lists))
    return path


def test_lesion_patch_pretraining_on_the_synthetic_default(dataset: Path, tmp_path: Path) -> None:
    """The synthetic datasets' lesion mask images locate their masses: the patch stage runs on them as it is."""
    overrides = {**_common(dataset, tmp_path / "run"), "image_size": 128, "patch_epochs": 1, "patches_per_image": 2}
    output = _ok(
        _bundle("run", "pretraining", "--config_file", _config("train", "pretrain_patches"), overrides=overrides)
    )
    assert "best validation patch AUC" in output
    assert (tmp_path / "run" / "models" / "patches" / "resnet50_backbone.pt").is_file()


@pytest.mark.parametrize(
    "data,key,extra,expected",
    [
        # a datalist whose abnormal images have neither a lesion mask nor centres
        ("unlocated_datalist", "datalist", {"image_size": 128}, ["has a located lesion", "prepare mias"]),
        # image_size 32 makes the default patch 8 pixels, too small for the ResNet-50
        ("mias_datalist", "datalist", {}, ["patch_size must lie between 32", "image_size"]),
    ],
)
def test_lesion_patch_stage_refuses_bad_input_at_start(
    request: pytest.FixtureRequest, tmp_path: Path, data: str, key: str, extra: dict, expected: list[str]
) -> None:
    """The patch stage stops at start with one line saying what is wrong and what to do."""
    overrides = {key: request.getfixturevalue(data), "run_dir": tmp_path / "run", **extra}
    result = _bundle("run", "pretraining", "--config_file", _config("train", "pretrain_patches"), overrides=overrides)
    last, _ = _last_lines(result)
    assert result.returncode != 0
    assert all(text in last for text in expected), last


def test_killed_patch_pretraining_resumes_to_the_weights_of_a_straight_run(mias_datalist: Path, tmp_path: Path) -> None:
    """The patch stage resumes like the whole-image training: killed after epoch 1 of 2 and started again, it ends
    with the weights of a straight run, bit for bit (random crops and augmentation restored), and exports them."""
    config = _config("train", "pretrain_patches")
    common = {
        "datalist": mias_datalist,
        "image_size": 128,
        "patch_epochs": 2,
        "patches_per_image": 2,
        "patch_batch_size": 8,
        "train#resume#keep_when_finished": "$None",  # keep the network in the last checkpoint to compare it
    }
    _ok(_bundle("run", "pretraining", "--config_file", config, overrides={**common, "run_dir": tmp_path / "straight"}))
    kill = (
        "$[@train#trainer.add_event_handler(ignite.engine.Events.EPOCH_COMPLETED(once=1), lambda e: os._exit(3)),"
        " @train#trainer.run()]"
    )
    overrides = {**common, "run_dir": tmp_path / "run"}
    first = _bundle("run", "pretraining", "--config_file", config, overrides={**overrides, "pretraining#3": kill})
    assert first.returncode == 3, (first.stdout + first.stderr)[-3000:]
    assert not (tmp_path / "run" / "models" / "patches" / "resnet50_backbone.pt").exists()
    output = _ok(_bundle("run", "pretraining", "--config_file", config, overrides=overrides))
    assert "going on from epoch 1 of 2" in output
    straight, resumed = (tmp_path / d / "models" / "patches" for d in ("straight", "run"))
    expected, actual = _network(straight / "checkpoint_epoch=2.pt"), _network(resumed / "checkpoint_epoch=2.pt")
    assert expected.keys() == actual.keys() and all(torch.equal(expected[k], actual[k]) for k in expected)
    a, b = (torch.load(d / "resnet50_backbone.pt", weights_only=True) for d in (straight, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)
