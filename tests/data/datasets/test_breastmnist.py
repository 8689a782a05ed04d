"""BreastMNIST builder: official splits, label mapping, PNG export and bad npz files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datasets import breastmnist_items
from monai_mammo.data.datasets.breastmnist import has_medmnist


@pytest.fixture(scope="module")
def items(breastmnist_npz: Path) -> dict[str, list[dict]]:
    return breastmnist_items(breastmnist_npz)


def test_official_split_sizes(items: dict[str, list[dict]]) -> None:
    assert {split: len(v) for split, v in items.items()} == {"train": 546, "val": 78, "test": 156}


def test_label_mapping(items: dict[str, list[dict]], breastmnist_npz: Path) -> None:
    """MedMNIST 0 (malignant) -> label 1; MedMNIST 1 (normal or benign) -> label 0."""
    with np.load(breastmnist_npz) as data:
        for split, split_items in items.items():
            original = data[f"{split}_labels"].ravel()
            assert [it["medmnist_label"] for it in split_items] == original.tolist()
            assert [it["label"] for it in split_items] == (original == 0).astype(int).tolist()
    assert sum(it["label"] for it in items["train"]) == 147
    assert {it["class_name"] for it in items["test"] if it["label"] == 1} == {"malignant"}


def test_arrays_without_output_dir(items: dict[str, list[dict]]) -> None:
    image = items["val"][0]["image"]
    assert isinstance(image, np.ndarray) and image.shape == (28, 28) and image.dtype == np.uint8
    assert len({it["patient_id"] for split in items.values() for it in split}) == 780


def _npz(path: Path, **overrides: np.ndarray) -> Path:
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 3), ("val", 2), ("test", 2)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1).astype(np.uint8)
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_png_export(tmp_path: Path) -> None:
    npz = _npz(tmp_path / "tiny.npz")
    items = breastmnist_items(npz, output_dir=tmp_path / "png")
    with np.load(npz) as data:
        for index, item in enumerate(items["train"]):
            assert Path(item["image"]).name == f"train_{index:04d}.png"
            np.testing.assert_array_equal(np.asarray(Image.open(item["image"])), data["train_images"][index])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"val_labels": None}, r"lacks the BreastMNIST keys \['val_labels'\]"),
        ({"test_labels": np.full((2, 1), 3, np.uint8)}, "must be 0"),
        ({"test_images": np.zeros((3, 28, 28), np.uint8)}, "one label each"),
    ],
)
def test_bad_npz(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        breastmnist_items(_npz(tmp_path / "bad.npz", **overrides))


def test_missing_npz_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"breastmnist\.npz from MedMNIST"):
        breastmnist_items(tmp_path / "breastmnist.npz")


@pytest.mark.skipif(has_medmnist, reason="medmnist is installed; this checks the message when it is not")
def test_download_without_medmnist(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="'medmnist' is not installed"):
        breastmnist_items(tmp_path / "breastmnist.npz", download=True)
