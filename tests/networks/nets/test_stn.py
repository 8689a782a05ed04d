"""SpatialTransformer: identity start, samplers, localisation size, output size, theta, bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from monai_mammo.networks.layers import BlendedSampler
from monai_mammo.networks.nets import SpatialTransformer
from monai_mammo.networks.nets.stn import BilinearSampler, LanczosSampler

SMALL = {"channels": (4, 8), "hidden_features": 8, "lanczos_backend": "reference"}  # no numba compile


@pytest.mark.parametrize(
    ("sampler", "cls"), [("blended", BlendedSampler), ("bilinear", BilinearSampler), ("lanczos", LanczosSampler)]
)
def test_starts_at_identity(sampler, cls):
    torch.manual_seed(0)
    stn = SpatialTransformer(sampler=sampler, **SMALL)
    assert isinstance(stn.sampler, cls)
    x = torch.rand(2, 1, 20, 24)
    warped, theta = stn.forward_with_theta(x)
    torch.testing.assert_close(theta, torch.eye(2, 3).expand(2, 2, 3))
    torch.testing.assert_close(warped, x, atol=1e-5, rtol=0)


def test_last_layer_init():
    stn = SpatialTransformer(lanczos_backend="reference")
    assert torch.count_nonzero(stn.fc_theta.weight) == 0
    assert stn.fc_theta.bias.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def test_parameter_count():
    # 3 conv blocks 16-32-64 (160 + 4,640 + 18,496), Linear(64*4*4, 64) 65,600, Linear(64, 6) 390, blend t 1
    assert sum(p.numel() for p in SpatialTransformer().parameters()) == 89_287


def test_warp_applies_theta():
    stn = SpatialTransformer(sampler="bilinear", **SMALL)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    flip = torch.tensor([[[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # mirror left-right
    torch.testing.assert_close(stn.warp(x, flip), x.flip(-1))


def test_localization_runs_on_the_resized_copy():
    stn = SpatialTransformer(localization_size=16, **SMALL)
    seen = []
    stn.localization.register_forward_hook(lambda m, inp, out: seen.append(tuple(inp[0].shape)))
    out = stn(torch.rand(1, 1, 64, 48))
    assert seen == [(1, 1, 16, 16)]
    assert out.shape == (1, 1, 64, 48)  # warped at full resolution


@pytest.mark.parametrize(("output_size", "expected"), [(None, (30, 40)), (16, (16, 16)), ((10, 12), (10, 12))])
def test_output_size(output_size, expected):
    stn = SpatialTransformer(output_size=output_size, sampler="bilinear", **SMALL)
    assert stn(torch.rand(2, 1, 30, 40)).shape == (2, 1, *expected)


def test_gradients_reach_localization_and_blend_weight():
    torch.manual_seed(0)
    stn = SpatialTransformer(**SMALL)
    x = torch.rand(2, 1, 16, 16, requires_grad=True)
    stn(x).square().mean().backward()
    assert stn.fc_theta.weight.grad.abs().sum() > 0
    assert stn.sampler.t.grad is not None
    assert x.grad is not None


def test_3d():
    stn = SpatialTransformer(spatial_dims=3, sampler="bilinear", channels=(2,), hidden_features=4)
    warped, theta = stn.forward_with_theta(torch.rand(1, 1, 6, 7, 8))
    assert warped.shape == (1, 1, 6, 7, 8) and theta.shape == (1, 3, 4)


def test_script_with_bilinear_sampler():
    stn = SpatialTransformer(sampler="bilinear", localization_size=16, **SMALL).eval()
    x = torch.rand(1, 1, 24, 24)
    torch.testing.assert_close(torch.jit.script(stn)(x), stn(x))


def test_bad_arguments():
    with pytest.raises(ValueError, match="bicubic"):
        SpatialTransformer(sampler="bicubic")
    with pytest.raises(ValueError, match="mirror"):
        SpatialTransformer(sampler="bilinear", padding_mode="mirror")
    with pytest.raises(ValueError, match="output_size must be positive"):
        SpatialTransformer(output_size=(0, 4))
    with pytest.raises(ValueError, match="spatial_dims"):
        SpatialTransformer(spatial_dims=1)
    with pytest.raises(ValueError, match="2 channels, expected in_channels=1"):
        SpatialTransformer(**SMALL)(torch.rand(1, 2, 8, 8))


def test_sampler_modules_are_interchangeable():
    grid = nn.functional.affine_grid(torch.eye(2, 3)[None], [1, 1, 8, 8], align_corners=False)
    x = torch.rand(1, 1, 8, 8)
    for sampler in (BilinearSampler(), LanczosSampler(backend="reference")):
        torch.testing.assert_close(sampler(x, grid), x, atol=1e-5, rtol=0)
