"""Datalist JSON: relative/absolute paths, MONAI's reader, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from monai.data import load_decathlon_datalist

from monai_mammo.data.datalist import read_datalist, write_datalist


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
