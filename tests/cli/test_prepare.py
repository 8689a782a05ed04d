"""``python -m monai_mammo prepare``: datalists MONAI reads, without leakage, and user errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from monai.data import load_decathlon_datalist
from PIL import Image

from monai_mammo.cli.main import main
from monai_mammo.data.splits import check_no_patient_leakage


def test_mias(mias_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "mias.json"
    args = ["prepare", "mias", str(mias_dir), "-o", str(output), "--folds", "4", "--test-fraction", "0.25"]
    assert main([*args, "--seed", "1"]) == 0
    assert "training fold 3" in capsys.readouterr().out
    training = load_decathlon_datalist(str(output), data_list_key="training")
    test = load_decathlon_datalist(str(output), data_list_key="test")
    assert len(training) + len(test) == 214 and Path(training[0]["image"]).is_file()
    assert {it["fold"] for it in training} == {0, 1, 2, 3}
    data = json.loads(output.read_text())
    assert check_no_patient_leakage(data) == 107 and data["labels"]["2"] == "malignant"
    assert not Path(data["training"][0]["image"]).is_absolute() and data["numTest"] == len(test)


def test_busi_dedup(busi_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "busi"
    for cls, names in {"normal": ["normal (26)", "normal (130)"], "benign": ["benign (4)", "benign (100)"]}.items():
        (root / cls).mkdir(parents=True)
        for name in names:
            for path in (busi_dir / cls).glob(f"{name}*.png"):
                (root / cls / path.name).symlink_to(path)
    output = tmp_path / "out" / "busi.json"
    args = ["prepare", "busi", str(root), "-o", str(output), "--folds", "2", "--test-fraction", "0", "--dedup"]
    assert main(args) == 0
    training = load_decathlon_datalist(str(output))
    assert len(training) == 3 and all(Path(it["mask"]).is_file() for it in training)
    assert Path(training[0]["mask"]).parent.parent == tmp_path / "out" / "busi_masks"


def test_breastmnist(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    npz = tmp_path / "tiny.npz"
    arrays = {f"{s}_images": np.zeros((n, 28, 28), np.uint8) for s, n in (("train", 4), ("val", 2), ("test", 3))}
    arrays.update({f"{s}_labels": np.zeros((n, 1), np.uint8) for s, n in (("train", 4), ("val", 2), ("test", 3))})
    np.savez(npz, **arrays)
    assert main(["prepare", "breastmnist", str(npz), "-o", str(tmp_path / "bm.json")]) == 0
    training = load_decathlon_datalist(str(tmp_path / "bm.json"))
    assert sorted(it["fold"] for it in training) == [0, 0, 1, 1, 1, 1] and all(it["label"] == 1 for it in training)
    assert len(load_decathlon_datalist(str(tmp_path / "bm.json"), data_list_key="test")) == 3
    assert f"wrote 9 images to {tmp_path / 'bm_images'}/ (--image-dir" in capsys.readouterr().out  # said, not silent


def test_folder(tmp_path: Path) -> None:
    for cls in ("benign", "malignant"):
        for i in range(4):
            (tmp_path / "data" / cls).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((4, 4), i, np.uint8)).save(tmp_path / "data" / cls / f"{i}.png")
    args = ["prepare", "folder", str(tmp_path / "data"), "-o", str(tmp_path / "f.json"), "--folds", "2"]
    assert main([*args, "--test-fraction", "0.25", "--modality", "US", "--absolute"]) == 0
    data = json.loads((tmp_path / "f.json").read_text())
    assert len(data["training"]) == 6 and Path(data["test"][0]["image"]).is_absolute()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prepare", "mias", "/nonexistent/mias"], "does not exist"),
        (["prepare", "folder", "."], "needs --modality"),
        (["prepare", "breastmnist", "/nonexistent/breastmnist.npz"], "MedMNIST"),
    ],
)
def test_user_errors(args: list[str], message: str, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert main([*args, "-o", str(tmp_path / "x.json")]) == 2
    assert message in capsys.readouterr().err


def test_on_error_warn(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = "".join(f"mdb{i:03d} F NORM\n" for i in range(1, 21)) + "mdb021 F BLOB\n"
    (tmp_path / "Info.txt").write_text(rows)
    for i in range(1, 22):
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / f"mdb{i:03d}.png")
    args = ["prepare", "mias", str(tmp_path), "-o", str(tmp_path / "d.json"), "--folds", "2"]
    assert main(args) == 2
    assert "line 21" in capsys.readouterr().err
    assert main([*args, "--on-error", "warn"]) == 0
    assert "left out 1 bad row" in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["prepare", "busi", "--help"])
    assert "--dedup" in capsys.readouterr().out
