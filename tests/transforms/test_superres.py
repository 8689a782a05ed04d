"""MakeLowResolution(d) and RandMakeLowResolution(d): LR/HR pairs for super-resolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai.data import MetaTensor

from monai_mammo.transforms import (
    LoadMammogram,
    MakeLowResolution,
    MakeLowResolutiond,
    RandMakeLowResolution,
    RandMakeLowResolutiond,
)


@pytest.mark.parametrize("factor", [2, 4])
def test_bicubic_antialiased(factor):
    img = torch.rand(1, 32, 48)
    lr = MakeLowResolution(factor)(img)
    ref = F.interpolate(img[None], scale_factor=1 / factor, mode="bicubic", antialias=True)[0]
    assert lr.shape == (1, 32 // factor, 48 // factor) and torch.allclose(lr, ref, atol=1e-6)


def test_metadata_scaled(cbis_ddsm_dicoms):
    img = LoadMammogram()(cbis_ddsm_dicoms[0])[:, 1000:1512, 1500:2012]
    lr = MakeLowResolution(4)(img)
    assert isinstance(lr, MetaTensor) and lr.shape == (1, 128, 128)
    assert np.allclose(lr.meta["spacing"], np.asarray(img.meta["spacing"]) * 4)
    assert lr.meta["laterality"] == img.meta["laterality"]
    # LR pixel (0, 0) covers HR pixels 0..3: its centre is HR 1.5
    assert torch.allclose(lr.affine[:2, 3], img.affine[:2, 3] + 1.5 * torch.diag(img.affine)[:2].double())
    assert float((lr.mean() - img.mean()).abs()) < 0.01 * float(img.mean())


def test_blur_and_noise_reduce_detail_and_are_seeded():
    img = torch.rand(1, 64, 64)
    plain = MakeLowResolution(2)(img)
    blurred = MakeLowResolution(2, sigma=2.0)(img)
    assert blurred.std() < plain.std()
    a = MakeLowResolution(2, noise_std=0.1, seed=1)(img)
    b = MakeLowResolution(2, noise_std=0.1, seed=1)(img)
    assert torch.equal(a, b) and 0.05 < float((a - plain).std()) < 0.15


def test_numpy_in_numpy_out_and_clip():
    img = np.random.default_rng(0).random((1, 16, 16), dtype=np.float32)
    lr = MakeLowResolution(2, noise_std=0.5, clip_range=(0, 1), seed=0)(img)
    assert isinstance(lr, np.ndarray) and lr.min() >= 0 and lr.max() <= 1


def test_not_divisible():
    with pytest.raises(ValueError, match="divisible"):
        MakeLowResolution(4)(torch.rand(1, 30, 32))
    out = MakeLowResolutiond("image", factor=4, divisible="crop")({"image": torch.rand(1, 30, 33)})
    assert out["image"].shape == (1, 28, 32) and out["lr"].shape == (1, 7, 8)


@pytest.mark.parametrize(
    "kwargs", [{"factor": 1}, {"factor": 2.5}, {"sigma": -1}, {"divisible": "pad"}, {"clip_range": (1, 0)}]
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        MakeLowResolution(**kwargs)


def test_nan_raises():
    img = torch.rand(1, 8, 8)
    img[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        MakeLowResolution(2)(img)


def test_random_replayable_and_same_draw_for_all_keys():
    img = torch.rand(1, 32, 32)
    t = RandMakeLowResolutiond(["a", "b"], lr_keys=["a_lr", "b_lr"], factor=2, noise_std_range=(0.05, 0.1))
    t.set_random_state(seed=3)
    out1 = t({"a": img, "b": img.clone()})
    assert torch.equal(out1["a_lr"], out1["b_lr"])
    t.set_random_state(seed=3)
    out2 = t({"a": img, "b": img.clone()})
    assert torch.equal(out1["a_lr"], out2["a_lr"])
    r = RandMakeLowResolution(factor=2, prob=0.0)
    assert torch.allclose(r(img), MakeLowResolution(2)(img))
