"""mini-MIAS builder on the shared data: counts, geometry, women, and bad Info.txt rows."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datasets import BadInputWarning, mias_items, mias_woman_id, parse_mias_info
from monai_mammo.data.splits import check_no_patient_leakage, split_datalist

HEADER = "MIAS header text\n1st column: MIAS database reference number.\n\n"


def _independent_counts(info: Path) -> Counter:
    """Class per image from a plain split of every 'mdb' line: NORM -> 0, any M -> 2, else 1."""
    severities: dict[str, set[str]] = {}
    for line in info.read_text().splitlines():
        tokens = line.split()
        if tokens and tokens[0].startswith("mdb"):
            severities.setdefault(tokens[0], set()).add(tokens[3] if len(tokens) > 3 else "N")
    return Counter(0 if "N" in s else 2 if "M" in s else 1 for s in severities.values())


@pytest.fixture(scope="module")
def items(mias_dir: Path) -> list[dict]:
    return mias_items(mias_dir)


def test_counts_per_class(items: list[dict], mias_dir: Path) -> None:
    counts = Counter(item["label"] for item in items)
    assert counts == _independent_counts(mias_dir / "Info.txt")
    assert counts == {0: 135, 1: 46, 2: 33}  # checked by hand against Info.txt
    assert all(item["modality"] == "MG" and Path(item["image"]).is_file() for item in items)


def test_several_lesions_and_converted_centres(items: list[dict]) -> None:
    mdb005 = next(item for item in items if item["refnum"] == "mdb005")  # rows: 477 133 30 and 500 168 26
    assert mdb005["centers"] == [[1023 - 133, 477], [1023 - 168, 500]]
    assert mdb005["radii"] == [30, 26]
    assert mdb005["abnormalities"] == ["CIRC", "CIRC"] and mdb005["tissue"] == "F"
    assert mdb005["label"] == 1 and mdb005["patient_id"] == "mias_003" and mdb005["laterality"] == "R"


def test_lesion_without_coordinates(items: list[dict]) -> None:
    mdb233 = next(item for item in items if item["refnum"] == "mdb233")  # 'G CALC M *NOTE 3*'
    assert mdb233["label"] == 2 and mdb233["centers"] == [] and mdb233["abnormalities"] == ["CALC"]


def test_mass_centres_lie_on_bright_tissue(items: list[dict]) -> None:
    """Every mass (not the tiny calcification clusters) is brighter than its image's mean; y flipped, some are not."""
    brighter, brighter_flipped, n = 0, 0, 0
    for item in items:
        if len(item["centers"]) != len(item["abnormalities"]):  # some lesion without coordinates
            continue
        lesions = [
            (c, r) for c, r, a in zip(item["centers"], item["radii"], item["abnormalities"], strict=True) if a != "CALC"
        ]
        if not lesions:
            continue
        image = np.asarray(Image.open(item["image"]), dtype=float)
        for (row, col), radius in lesions:
            n += 1
            for flipped in (False, True):
                r = 1023 - row if flipped else row
                patch = image[max(r - radius, 0) : r + radius + 1, max(col - radius, 0) : col + radius + 1]
                if patch.mean() > image.mean():
                    brighter_flipped += flipped
                    brighter += not flipped
    assert n > 40 and brighter == n and brighter_flipped < n


@pytest.mark.parametrize(("refnum", "woman"), [("mdb001", "mias_001"), ("mdb002", "mias_001"), ("mdb003", "mias_002")])
def test_woman_id(refnum: str, woman: str) -> None:
    assert mias_woman_id(refnum) == woman


def test_two_images_per_woman(items: list[dict]) -> None:
    per_woman = Counter(item["patient_id"] for item in items)
    assert len(per_woman) == 107 and set(per_woman.values()) == {2}


def test_no_woman_in_two_parts(items: list[dict]) -> None:
    datalist = split_datalist(items, folds=5, test_fraction=0.2, seed=0)
    assert check_no_patient_leakage(datalist) == 107
    parts: dict[str, set] = {}
    for item in datalist["training"]:
        parts.setdefault(item["patient_id"], set()).add(item["fold"])
    for item in datalist["test"]:
        parts.setdefault(item["patient_id"], set()).add("test")
    assert all(len(p) == 1 for p in parts.values())


def test_pgm_images(mias_dir: Path, mias_pgm_dir: Path) -> None:
    with pytest.warns(BadInputWarning, match="left out 204"):
        items = mias_items(mias_dir, image_dir=mias_pgm_dir, on_error="warn")
    assert len(items) == 10 and all(item["image"].endswith(".pgm") for item in items)


def _write(tmp_path: Path, rows: str, images: tuple[str, ...] = ("mdb001", "mdb002")) -> Path:
    (tmp_path / "Info.txt").write_text(HEADER + rows)
    for name in images:
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / f"{name}.png")
    return tmp_path


def test_missing_info(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Info\.txt"):
        mias_items(tmp_path)


def test_no_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no 'mdbNNN"):
        mias_items(_write(tmp_path, "nothing here\n"))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("mdb002 X NORM", "unknown tissue"),
        ("mdb002 F BLOB B 1 2 3", "unknown class"),
        ("mdb002 F NORM B", "NORM row"),
        ("mdb002 F CIRC", "severity"),
        ("mdb002 F CIRC B 12 x 3", "integer X Y RADIUS"),
        ("mdb002 F CIRC B 1200 20 3", "outside"),
    ],
)
def test_malformed_row(tmp_path: Path, row: str, message: str) -> None:
    root = _write(tmp_path, f"mdb001 F NORM\n{row}\n")
    with pytest.raises(ValueError, match=f"Info.txt, line 5 .*{message}"):
        mias_items(root)
    with pytest.warns(BadInputWarning, match="left out 1"):
        assert [item["refnum"] for item in mias_items(root, on_error="warn")] == ["mdb001"]


def test_image_missing_on_disk(tmp_path: Path) -> None:
    root = _write(tmp_path, "mdb001 F NORM\nmdb002 F CIRC M 10 20 5\n", images=("mdb001",))
    with pytest.raises(FileNotFoundError, match="line 5: image mdb002 not found"):
        mias_items(root)
    with pytest.warns(BadInputWarning, match="left out 1"):
        assert len(mias_items(root, on_error="warn")) == 1


def test_parse_keeps_rows_in_order(tmp_path: Path, mias_dir: Path) -> None:
    shutil.copy(mias_dir / "Info.txt", tmp_path / "Info.txt")
    records = parse_mias_info(tmp_path / "Info.txt")
    assert list(records)[:3] == ["mdb005", "mdb006", "mdb009"] and len(records["mdb005"].lesions) == 2
