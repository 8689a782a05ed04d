"""BlendedSampler: blend formula, w = 0 / 1 limits, per-channel weights, gradients, bad arguments."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from monai_mammo.networks.layers import BlendedSampler, lanczos_grid_sample
from monai_mammo.networks.layers._lanczos_numba import has_numba

BACKENDS = ["reference"] + (["numba"] if has_numba else [])


def _data(dtype=torch.float32, c=2):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, c, 12, 14, dtype=dtype, generator=g)
    theta = torch.tensor([[0.8, 0.2, 0.1], [-0.15, 0.9, -0.05]], dtype=dtype).expand(2, 2, 3)
    return x, theta


def test_initial_weight_and_formula():
    sampler = BlendedSampler(backend="reference")
    assert sampler.weight.item() == 0.5 and sampler.t.item() == 0.0
    x, theta = _data()
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    expected = 0.5 * lanczos_grid_sample(x, grid, backend="reference") + 0.5 * F.grid_sample(
        x, grid, align_corners=False
    )
    torch.testing.assert_close(sampler(x, grid), expected)
    assert BlendedSampler(init_weight=0.8).weight.item() == pytest.approx(0.8)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_weight_zero_is_bilinear(backend, align_corners, padding_mode):
    x, theta = _data()
    grid = F.affine_grid(theta * 1.4, list(x.shape), align_corners=align_corners)  # partly outside
    sampler = BlendedSampler(init_weight=0.0, padding_mode=padding_mode, align_corners=align_corners, backend=backend)
    assert sampler.weight.item() == 0.0
    bilinear = F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=align_corners)
    torch.testing.assert_close(sampler(x, grid), bilinear, atol=1e-6, rtol=0)


def test_weight_one_is_lanczos():
    x, theta = _data()
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    sampler = BlendedSampler(init_weight=1.0, backend="reference")
    torch.testing.assert_close(sampler(x, grid), lanczos_grid_sample(x, grid, backend="reference"), atol=1e-6, rtol=0)


def test_per_channel_weights():
    x, theta = _data(c=3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    sampler = BlendedSampler(num_channels=3, backend="reference")
    with torch.no_grad():
        sampler.t.copy_(torch.tensor([-30.0, 0.0, 30.0]))  # w = 0, 0.5, 1
    out = sampler(x, grid)
    bil = F.grid_sample(x, grid, align_corners=False)
    lan = lanczos_grid_sample(x, grid, backend="reference")
    torch.testing.assert_close(out[:, 0], bil[:, 0], atol=1e-6, rtol=0)
    torch.testing.assert_close(out[:, 1], 0.5 * (bil[:, 1] + lan[:, 1]), atol=1e-6, rtol=0)
    torch.testing.assert_close(out[:, 2], lan[:, 2], atol=1e-6, rtol=0)
    assert sampler.weight.shape == (3,)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("num_channels", [None, 1])
def test_gradcheck_input_theta_and_weight(backend, num_channels):
    x = torch.rand(1, 1, 6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    theta = torch.tensor([[[0.9, 0.1, 0.05], [-0.1, 0.85, 0.1]]], dtype=torch.float64, requires_grad=True)
    sampler = BlendedSampler(num_channels=num_channels, init_weight=0.3, backend=backend).double()

    def f(inp, th, t):  # the module with t as an explicit input
        grid = F.affine_grid(th, [1, 1, 5, 6], align_corners=False)
        return torch.func.functional_call(sampler, {"t": t}, (inp, grid))

    t = sampler.t.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(f, (x, theta, t))
    # and the module itself gives the gradient of t
    grid = F.affine_grid(theta.detach(), [1, 1, 5, 6], align_corners=False)
    sampler(x.detach(), grid).sum().backward()
    assert sampler.t.grad is not None and sampler.t.grad.shape == sampler.t.shape


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"a": 0}, "a \\(the Lanczos window\\)"),
        ({"num_channels": 0}, "num_channels"),
        ({"init_weight": 1.5}, "init_weight"),
        ({"padding_mode": "wrap"}, "wrap"),
        ({"backend": "gpu"}, "gpu"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BlendedSampler(**kwargs)


def test_channel_mismatch():
    sampler = BlendedSampler(num_channels=2)
    with pytest.raises(ValueError, match="num_channels=2"):
        sampler(torch.rand(1, 3, 8, 8), torch.zeros(1, 4, 4, 2))


def test_3d_reference():
    x = torch.rand(1, 1, 6, 6, 6, generator=torch.Generator().manual_seed(2))
    grid = F.affine_grid(torch.eye(3, 4)[None], [1, 1, 6, 6, 6], align_corners=True)
    torch.testing.assert_close(BlendedSampler(align_corners=True)(x, grid), x, atol=1e-6, rtol=0)
