"""Folder-of-class-subfolders and CSV builders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datasets import BadInputWarning, csv_items, folder_items


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    return path


def test_folder(tmp_path: Path) -> None:
    for name in ("Benign/a.png", "benign_extra.txt", "Malignant/sub/b.jpg", "normal/c.png"):
        _png(tmp_path / name) if name.endswith(("png", "jpg")) else (tmp_path / name).write_text("x")
    items = folder_items(tmp_path, "US")
    assert [(it["class_name"], it["label"], it["patient_id"]) for it in items] == [
        ("benign", 1, "Benign/a"),
        ("malignant", 2, "Malignant/sub/b"),
        ("normal", 0, "normal/c"),
    ]
    assert {it["modality"] for it in items} == {"US"}


def test_folder_class_map(tmp_path: Path) -> None:
    _png(tmp_path / "cancer" / "a.png")
    assert folder_items(tmp_path, "MG", class_map={"cancer": 2})[0]["label"] == 2


def test_unknown_class_folder(tmp_path: Path) -> None:
    _png(tmp_path / "benign" / "a.png")
    _png(tmp_path / "unsure" / "b.png")
    with pytest.raises(ValueError, match="unsure: not a known class"):
        folder_items(tmp_path, "MG")
    with pytest.warns(BadInputWarning, match="left out 1"):
        assert len(folder_items(tmp_path, "MG", on_error="warn")) == 1


def test_bad_modality(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        folder_items(tmp_path, "CT")


def _csv(tmp_path: Path, rows: str, header: str = "image,label,patient_id,modality") -> Path:
    _png(tmp_path / "img" / "a.png")
    _png(tmp_path / "img" / "b.png")
    path = tmp_path / "list.csv"
    path.write_text(f"{header}\n{rows}")
    return path


def test_csv(tmp_path: Path) -> None:
    items = csv_items(_csv(tmp_path, "img/a.png,Malignant,p1,US\nimg/b.png,0,,\n"), modality="MG")
    assert [(it["label"], it["patient_id"], it["modality"]) for it in items] == [
        (2, "p1", "US"),
        (0, "img/b.png", "MG"),
    ]
    assert Path(items[0]["image"]) == tmp_path / "img" / "a.png"


@pytest.mark.parametrize(
    ("rows", "error", "message"),
    [
        ("img/a.png,1,p,MG\nimg/c.png,1,p,MG\n", FileNotFoundError, "row 3: image not found"),
        ("img/a.png,1,p,MG\nimg/b.png,cyst,p,MG\n", ValueError, "row 3: unknown label 'cyst'"),
        ("img/a.png,1,p,MG\nimg/b.png,7,p,MG\n", ValueError, "row 3: label '7' is out of range"),
        ("img/a.png,1,p,MG\nimg/b.png,1,p,\n", ValueError, "row 3"),
    ],
)
def test_csv_bad_row(tmp_path: Path, rows: str, error: type, message: str) -> None:
    path = _csv(tmp_path, rows)
    with pytest.raises(error, match=message):
        csv_items(path)
    with pytest.warns(BadInputWarning, match="left out 1"):
        assert len(csv_items(path, on_error="warn")) == 1


def test_csv_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing columns \['label'\]"):
        csv_items(_csv(tmp_path, "img/a.png\n", header="image"))
