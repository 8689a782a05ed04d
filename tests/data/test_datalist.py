"""Datalist JSON: relative/absolute paths, MONAI's reader, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from monai.data import load_decathlon_datalist

from monai_mammo.data.datalist import (
    DATALIST_NAME,
    check_num_classes,
    read_datalist,
    require_keys,
    select_fold,
    write_datalist,
)


@pytest.fixture
def datalist(tmp_path: Path) -> dict:
    images = tmp_path / "data"
    images.mkdir()
    for name in ("a.png", "a_mask.png", "b.png"):
        (images / name).write_bytes(b"x")
    return {
        "name": "toy",
        "training": [
            {"image": str(images / "a.png"), "mask": str(images / "a_mask.png"), "label": 1, "fold": 0},
            {"image": str(images / "b.png"), "masks": [str(images / "a_mask.png")], "label": 0, "fold": 1},
        ],
        "test": [{"image": str(images / "b.png"), "label": 2, "centers": [[3, 4]]}],
    }


def test_relative_paths_read_by_monai(datalist: dict, tmp_path: Path) -> None:
    path = write_datalist(tmp_path / "lists" / "datalist.json", datalist)
    raw = json.loads(path.read_text())
    assert raw["training"][0]["image"] == "../data/a.png" and raw["training"][1]["masks"] == ["../data/a_mask.png"]
    for key in ("training", "test"):
        loaded = load_decathlon_datalist(str(path), data_list_key=key)
        assert [Path(it["image"]) for it in loaded] == [Path(it["image"]) for it in datalist[key]]
    assert Path(load_decathlon_datalist(str(path))[0]["mask"]) == Path(datalist["training"][0]["mask"])


def test_absolute_paths(datalist: dict, tmp_path: Path) -> None:
    path = write_datalist(tmp_path / "datalist.json", datalist, relative=False)
    assert json.loads(path.read_text())["test"][0]["image"] == datalist["test"][0]["image"]


def test_round_trip(datalist: dict, tmp_path: Path) -> None:
    assert read_datalist(write_datalist(tmp_path / "x" / "d.json", datalist)) == datalist


def test_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path key"):
        write_datalist(tmp_path / "d.json", {"training": [{"image": np.zeros((2, 2)), "label": 0}]})


@pytest.mark.parametrize(("text", "error"), [(None, FileNotFoundError), ("{bad", ValueError), ("[1, 2]", ValueError)])
def test_read_bad_file(tmp_path: Path, text: str | None, error: type) -> None:
    path = tmp_path / "d.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(error, match=r"d\.json"):
        read_datalist(path)


def _write_datalist(folder: Path, training: list[dict], **extra: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DATALIST_NAME
    path.write_text(json.dumps({"training": training, **extra}), encoding="utf-8")
    return path


def _items(labels: list[int], folds: list[int] | None = None) -> list[dict]:
    folds = folds if folds is not None else [i % 2 for i in range(len(labels))]
    return [
        {"image": f"images/{i}.png", "label": lab, "patient_id": f"P{i}", "fold": f, "mask": None}
        for i, (lab, f) in enumerate(zip(labels, folds, strict=True))
    ]


def test_relative_paths_are_resolved_against_the_datalist(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path / "ds", _items([0, 1]), test=[{"image": "/abs/x.png", "label": 0}])
    lists = read_datalist(path)
    assert lists["training"][0]["image"] == str(tmp_path / "ds" / "images" / "0.png")
    assert lists["training"][0]["mask"] is None
    assert lists["test"][0]["image"] == "/abs/x.png"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"test": []}', "no 'training' list"),
        ('{"training": [1]}', r"training\[0\] must be an object"),
    ],
)
def test_bad_datalists_fail(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        read_datalist(path, required=("training",))


def test_split_by_fold(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path, _items([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 1]), test=_items([2, 1, 0]))
    split = select_fold(path, fold=1, num_classes=3)
    assert [item["fold"] for item in split["train"]] == [0, 0, 0]
    assert [item["fold"] for item in split["val"]] == [1, 1, 1]
    assert len(split["test"]) == 3


def test_validation_list_replaces_folds(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path, _items([0, 1, 2]), validation=_items([2, 1, 0]))
    split = select_fold(path, fold=0)
    assert len(split["train"]) == 3 and len(split["val"]) == 3 and split["test"] == []


@pytest.mark.parametrize(
    ("items", "fold", "match"),
    [
        (_items([0, 1, 2], [0, 0, 0]), 3, r"fold=3 is not one of the folds \[0\]"),
        ([{"image": "a.png", "label": 0}], 0, r"training\[0\] \(image .*a.png\) has no 'fold'"),
        (_items([0, 1, 2], [0, 0, 0]), 0, "0 training and 3 validation items"),
    ],
)
def test_bad_folds_fail(tmp_path: Path, items: list[dict], fold: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        select_fold(_write_datalist(tmp_path, items), fold=fold)


@pytest.mark.parametrize(
    ("labels", "num_classes", "match"),
    [
        ([0, 1, 2], 2, r"num_classes=2 .* labels \[0, 1, 2\]"),
        ([0, 1], 3, r"num_classes=3 .* labels \[0, 1\]"),
        ([0, -1, 1], 2, "class count mismatch"),
        ([0, 1.5], 2, "must be integers"),
        ([0, "benign"], 2, "must be integers"),
    ],
)
def test_class_count_mismatch(labels: list, num_classes: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_num_classes({"training": [{"label": lab} for lab in labels]}, num_classes)


def test_matching_classes_pass() -> None:
    check_num_classes({"training": [{"label": lab} for lab in (2, 0, 1, 1)]}, 3)


def test_require_keys_names_file_list_index_and_image() -> None:
    items = [{"image": "a.png", "label": 0}, {"image": "b.png"}]
    with pytest.raises(ValueError, match=r"^x.json: test\[1\] \(image b.png\) has no 'label'\.$"):
        require_keys(items, ["label"], "x.json", "test")
