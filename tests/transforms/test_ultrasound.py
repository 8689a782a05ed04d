"""CropUltrasoundScan on real BUSI images (lesion masks kept; text around the scan dropped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from PIL import Image, ImageDraw

from monai_mammo.transforms import CropUltrasoundScan, CropUltrasoundScand

NAMES = ["benign (100)", "malignant (82)", "benign (285)", "benign (164)", "malignant (68)", "malignant (2)"]


def _load(busi_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    folder = busi_dir / name.split(" ")[0]
    img = np.asarray(Image.open(folder / f"{name}.png").convert("L"), dtype=np.float32)[None]
    masks = [np.asarray(Image.open(p).convert("L")) > 0 for p in sorted(folder.glob(f"{name}_mask*.png"))]
    return img, np.any(masks, axis=0)[None].astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_crop_keeps_lesion(busi_dir, name):
    img, mask = _load(busi_dir, name)
    out = CropUltrasoundScand(["image", "mask"])({"image": img, "mask": mask})
    assert isinstance(out["image"], np.ndarray) and out["image"].shape == out["mask"].shape
    assert out["mask"].sum() == mask.sum()  # the whole lesion is inside the crop


def _with_annotations(img: np.ndarray, pad: int = 60) -> np.ndarray:
    """The scan on a black canvas with scanner-like text and a ruler around it."""
    h, w = img.shape[1:]
    canvas = Image.new("L", (w + 2 * pad, h + 2 * pad), 0)
    canvas.paste(Image.fromarray(img[0].astype(np.uint8)), (pad, pad))
    draw = ImageDraw.Draw(canvas)
    draw.text((5, 5), "LOGIQ E9  BREAST L  12MHz  GN 54  D 4.0cm", fill=255)
    draw.text((5, h + pad + 25), "L BREAST 3:00 4CM FN", fill=230)
    for y in range(pad, pad + h, 20):  # depth ruler ticks at the right
        draw.line([(w + pad + 20, y), (w + pad + 30, y)], fill=200)
    return np.asarray(canvas, dtype=np.float32)[None]


def test_crop_drops_text_around_scan(busi_dir):
    img, _ = _load(busi_dir, "benign (100)")
    pad = 60
    annotated = MetaTensor(torch.as_tensor(_with_annotations(img, pad)))
    crop = CropUltrasoundScan(margin=2)
    out = crop(annotated)
    r0, c0, r1, c1 = out.meta["scan_box"]
    h, w = img.shape[1:]
    assert r0 >= pad - 2 and c0 >= pad - 2 and r1 <= pad + h + 2 and c1 <= pad + w + 2  # text and ruler are out
    assert (r1 - r0) * (c1 - c0) > 0.8 * h * w  # the scan is in
    # MONAI matches the inverse by instance id: the same instance must undo it (a fresh one
    # only passed when CPython happened to reuse the freed instance's address).
    back = crop.inverse(out)
    assert back.shape == annotated.shape


def test_rgb_input_and_constant_error(busi_dir):
    folder = busi_dir / "benign"
    rgb = np.asarray(Image.open(folder / "benign (100).png").convert("RGB"), dtype=np.float32).transpose(2, 0, 1)
    out = CropUltrasoundScan()(torch.as_tensor(rgb))
    assert out.shape[0] == 3
    with pytest.raises(ValueError, match="constant"):
        CropUltrasoundScan()(np.zeros((1, 32, 32)))


@pytest.mark.parametrize("kwargs", [{"margin": -1}, {"window": 1}, {"min_level": 2.0}, {"opening": -2}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        CropUltrasoundScan(**kwargs)


def test_pydicom_ultrasound_dicom():
    import warnings

    from pydicom.data import get_testdata_file

    from monai_mammo.transforms import LoadMammogram

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = get_testdata_file("US1_UNCI.dcm")
    if path is None:
        pytest.skip("pydicom's US1_UNCI.dcm needs the optional package pydicom-data (or a download)")
    img = LoadMammogram()(path)
    out = CropUltrasoundScan()(img)
    assert out.shape[-2] <= img.shape[-2] and out.shape[-1] <= img.shape[-1]
