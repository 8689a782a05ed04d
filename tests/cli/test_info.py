"""``python -m monai_mammo info``: counts of a datalist or a dataset root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monai_mammo.cli.info import detect_kind
from monai_mammo.cli.main import main


def test_info_on_datalist(mias_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "mias.json"
    assert main(["prepare", "mias", str(mias_dir), "-o", str(output)]) == 0
    capsys.readouterr()
    assert main(["info", str(output), "--sample", "2"]) == 0
    out = capsys.readouterr().out
    assert "items: 214   patients: 107" in out and "training fold 4" in out and "test" in out
    assert "modality: MG 214" in out and "1024x1024 (2)" in out


def test_info_on_mias_root(mias_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["info", str(mias_dir), "--sample", "0"]) == 0
    out = capsys.readouterr().out
    assert "(mias)" in out and "135" in out and "46" in out and "33" in out


def test_info_on_breastmnist(breastmnist_npz: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["info", str(breastmnist_npz), "--sample", "3"]) == 0
    out = capsys.readouterr().out
    assert "items: 780" in out and "28x28 (3)" in out
    assert [line.split()[0] for line in out.splitlines() if line.split()[-1] in ("546", "78", "156")] == [
        "train",
        "val",
        "test",
    ]


@pytest.mark.parametrize(("name", "kind"), [("x.json", "datalist"), ("x.npz", "breastmnist"), ("x.csv", "folder")])
def test_detect_kind(name: str, kind: str) -> None:
    assert detect_kind(Path(name)) == kind


def test_detect_busi(busi_dir: Path) -> None:
    assert detect_kind(busi_dir) == "busi"


def test_missing_path(capsys: pytest.CaptureFixture) -> None:
    assert main(["info", "/nonexistent/dataset"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(("item", "key"), [({"image": "b.png"}, "label"), ({"label": 1}, "image")])
def test_item_without_a_key_is_named(tmp_path: Path, capsys: pytest.CaptureFixture, item: dict, key: str) -> None:
    """The error names the file, the list, the item's index as written in that list, and its image."""
    path = tmp_path / "d.json"
    path.write_text(
        json.dumps({"training": [{"image": "a.png", "label": 0}], "test": [{"image": "c.png", "label": 0}, item]})
    )
    assert main(["info", str(path), "--sample", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {path}: test[1]") and err[-1].endswith(f"has no {key!r}.")
    assert ("(image " in err[-1]) == ("image" in item)
