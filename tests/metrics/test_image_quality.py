"""Tests of monai_mammo.metrics.image_quality: masked PSNR and SSIM, the bicubic baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.metrics import SSIMMetric

from monai_mammo.metrics import bicubic_upsample, masked_psnr, masked_ssim

RNG = np.random.default_rng(0)
IMG = torch.as_tensor(RNG.random((2, 1, 32, 32)), dtype=torch.float32)
MASK = torch.zeros(2, 1, 32, 32)
MASK[:, :, 8:24, 8:24] = 1


def test_psnr_by_hand():
    np.testing.assert_allclose(masked_psnr(IMG, IMG + 0.1, data_range=1.0).numpy(), [20.0, 20.0], rtol=1e-5)
    np.testing.assert_allclose(masked_psnr(IMG, IMG + 0.1, data_range=2.0).numpy(), [26.0206] * 2, rtol=1e-5)


def test_psnr_counts_only_the_mask():
    noisy = IMG + (1 - MASK) * 0.5  # error only outside the mask
    assert torch.isinf(masked_psnr(noisy, IMG, MASK, data_range=1.0)).all()
    inside = IMG + MASK * 0.1
    np.testing.assert_allclose(masked_psnr(inside, IMG, MASK, data_range=1.0).numpy(), [20.0, 20.0], rtol=1e-5)


def test_empty_mask_is_nan():
    empty = torch.zeros_like(MASK)
    assert torch.isnan(masked_psnr(IMG, IMG + 0.1, empty, data_range=1.0)).all()
    assert torch.isnan(masked_ssim(IMG, IMG, empty, data_range=1.0)).all()


def test_ssim_without_mask_equals_monai():
    noisy = (IMG + 0.1 * torch.as_tensor(RNG.standard_normal(IMG.shape), dtype=torch.float32)).clamp(0, 1)
    ours = masked_ssim(noisy, IMG, data_range=1.0)
    monai = SSIMMetric(spatial_dims=2, data_range=1.0, reduction="none")(noisy, IMG).reshape(-1)
    np.testing.assert_allclose(ours.numpy(), monai.numpy(), rtol=1e-5)
    assert (ours < 1).all()


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    x = RNG.random((48, 48))
    y = np.clip(x + 0.05 * RNG.standard_normal(x.shape), 0, 1)
    ref = structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    ours = masked_ssim(x[None, None], y[None, None], data_range=1.0)
    assert isinstance(ours, np.ndarray)
    assert ours[0] == pytest.approx(ref, abs=2e-3)


def test_ssim_inside_mask_ignores_outside():
    damaged = IMG.clone()
    damaged[:, :, :3, :] = 0  # rows 0-2: outside the reach of the 11x11 windows centred in the mask (rows 8-23)
    np.testing.assert_allclose(masked_ssim(damaged, IMG, MASK, data_range=1.0).numpy(), [1.0, 1.0], rtol=1e-6)
    assert (masked_ssim(damaged, IMG, data_range=1.0) < 1).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: masked_psnr(IMG, IMG[:, :, :16], data_range=1.0), "same shape"),
        (lambda: masked_psnr(IMG, IMG, data_range=0.0), "data_range"),
        (lambda: masked_psnr(IMG, IMG, MASK[:, :, :16], data_range=1.0), "mask must have shape"),
        (lambda: masked_psnr(IMG[0], IMG[0], data_range=1.0), "batch-first"),
        (lambda: masked_ssim(IMG, IMG, data_range=1.0, win_size=4), "win_size"),
        (lambda: bicubic_upsample(IMG), "exactly one"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bicubic_upsample():
    up = bicubic_upsample(IMG, scale_factor=2)
    assert up.shape == (2, 1, 64, 64)
    const = bicubic_upsample(np.full((1, 1, 8, 8), 0.3), size=(16, 16))
    assert isinstance(const, np.ndarray) and np.allclose(const, 0.3)
    clipped = bicubic_upsample(IMG, scale_factor=2, value_range=(0.0, 1.0))
    assert clipped.min() >= 0 and clipped.max() <= 1 and (up.min() < 0 or up.max() > 1)
    assert bicubic_upsample(torch.rand(1, 1, 4, 4, 4), scale_factor=2).shape == (1, 1, 8, 8, 8)
