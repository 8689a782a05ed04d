"""BUSI builder on the shared data: counts, merged masks, near-duplicates, bad layouts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datasets import BadInputWarning, busi_items


def _link(busi_dir: Path, target: Path, names: list[str]) -> Path:
    """A small BUSI tree in ``target`` of symlinks to the named real images and their masks."""
    for name in names:
        cls = name.split()[0]
        (target / cls).mkdir(parents=True, exist_ok=True)
        for path in (busi_dir / cls).glob(f"{name}*.png"):
            if path.stem == name or path.stem.startswith(f"{name}_mask"):
                (target / cls / path.name).symlink_to(path)
    return target


def test_counts(busi_dir: Path) -> None:
    items = busi_items(busi_dir, duplicates="ignore")
    assert Counter(item["class_name"] for item in items) == {"benign": 109, "malignant": 52, "normal": 33}
    assert {item["label"] for item in items if item["class_name"] == "malignant"} == {2}
    assert all(item["modality"] == "US" and "mask" not in item for item in items)
    assert len({item["patient_id"] for item in items}) == 194


def test_merged_mask_is_union(busi_dir: Path, tmp_path: Path) -> None:
    root = _link(busi_dir, tmp_path / "busi", ["benign (100)", "normal (20)"])
    items = busi_items(root, mask_dir=tmp_path / "masks", duplicates="ignore")
    benign = next(item for item in items if item["class_name"] == "benign")
    assert [Path(m).name for m in benign["masks"]] == ["benign (100)_mask.png", "benign (100)_mask_1.png"]
    parts = [np.asarray(Image.open(m).convert("L")) > 0 for m in benign["masks"]]
    merged = np.asarray(Image.open(benign["mask"]))
    assert merged.dtype == np.uint8 and set(np.unique(merged)) <= {0, 255}
    np.testing.assert_array_equal(merged > 0, parts[0] | parts[1])
    assert (merged > 0).sum() > max(p.sum() for p in parts)
    normal = next(item for item in items if item["class_name"] == "normal")
    assert not np.asarray(Image.open(normal["mask"])).any()


def test_duplicates_grouped(busi_dir: Path) -> None:
    with pytest.warns(BadInputWarning, match="2 near-duplicate group"):
        items = busi_items(busi_dir, duplicates="group")
    groups = Counter(item["patient_id"] for item in items)
    assert len(items) == 194 and sum(n > 1 for n in groups.values()) == 13 and len(groups) == 194 - 27 + 13
    a, b = (next(i for i in items if i["image"].endswith(n)) for n in ("benign (395).png", "benign (411).png"))
    assert a["patient_id"] == b["patient_id"] and b["duplicates"] == ["benign/benign (395).png"]


def test_duplicates_removed(busi_dir: Path, tmp_path: Path) -> None:
    names = ["normal (26)", "normal (130)", "benign (85)", "benign (164)", "malignant (52)", "benign (4)"]
    root = _link(busi_dir, tmp_path, names)
    with pytest.warns(BadInputWarning, match="span classes"):
        items = busi_items(root, duplicates="remove")
    kept = sorted(Path(item["image"]).name for item in items)
    assert kept == ["benign (4).png", "normal (26).png"]  # the cross-class triple is dropped entirely
    assert next(i for i in items if i["class_name"] == "normal")["duplicates"] == ["normal/normal (130).png"]


def _tiny(root: Path, name: str, size: tuple[int, int] = (8, 6)) -> None:
    cls = name.split()[0]
    (root / cls).mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros(size[::-1], np.uint8)).save(root / cls / f"{name}.png")


def test_no_class_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no BUSI class folder"):
        busi_items(tmp_path)


@pytest.mark.parametrize(
    ("files", "error", "message"),
    [
        (["benign (1)"], FileNotFoundError, "no mask"),
        (["benign (1)", "benign (1)_mask", "benign (2)_mask"], FileNotFoundError, "without its image"),
    ],
)
def test_bad_layout(tmp_path: Path, files: list[str], error: type, message: str) -> None:
    for name in ["benign (3)", "benign (3)_mask", *files]:
        _tiny(tmp_path, name)
    with pytest.raises(error, match=message):
        busi_items(tmp_path, duplicates="ignore")
    with pytest.warns(BadInputWarning, match="left out 1"):
        items = busi_items(tmp_path, duplicates="ignore", on_error="warn")
    assert "benign (3).png" in [Path(item["image"]).name for item in items]


def test_mask_of_another_size(tmp_path: Path) -> None:
    _tiny(tmp_path, "benign (1)")
    _tiny(tmp_path, "benign (1)_mask", size=(9, 6))
    with pytest.raises(ValueError, match="mask size"):
        busi_items(tmp_path, mask_dir=tmp_path / "out", duplicates="ignore")
