"""The fused numba blended kernel equals the composition lerp(grid_sample, lanczos_grid_sample, w)."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.networks.layers import BlendedSampler
from monai_mammo.networks.layers._lanczos_numba import has_numba

pytestmark = pytest.mark.skipif(not has_numba, reason="numba not installed (pip install 'monai-mammo[fast]')")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("num_channels", [None, 3])
def test_fused_equals_composition(dtype, align_corners, padding_mode, num_channels):
    g = torch.Generator().manual_seed(11)
    x = torch.rand(2, 3, 9, 11, dtype=dtype, generator=g, requires_grad=True)
    grid = (torch.rand(2, 7, 8, 2, dtype=dtype, generator=g) * 2.6 - 1.3).requires_grad_(True)
    kw = {"num_channels": num_channels, "padding_mode": padding_mode, "align_corners": align_corners}
    composed = BlendedSampler(backend="reference", init_weight=0.3, **kw).to(dtype)
    fused = BlendedSampler(backend="numba", init_weight=0.3, **kw).to(dtype)
    if num_channels:
        with torch.no_grad():
            composed.t.copy_(torch.tensor([-1.0, 0.3, 2.0]))
            fused.t.copy_(composed.t)
    ref = composed(x, grid)
    out = fused(x, grid)
    assert out.dtype == dtype
    go = torch.randn_like(ref)
    tol = 1e-10 if dtype == torch.float64 else 2e-5
    torch.testing.assert_close(out, ref, atol=tol, rtol=0)
    for r, n in zip(
        torch.autograd.grad(ref, (x, grid, composed.t), go),
        torch.autograd.grad(out, (x, grid, fused.t), go),
        strict=True,
    ):
        torch.testing.assert_close(n, r, atol=tol * 10, rtol=tol)


def test_fused_gradcheck():
    g = torch.Generator().manual_seed(12)
    x = torch.rand(1, 2, 6, 7, dtype=torch.float64, generator=g, requires_grad=True)
    grid = (torch.rand(1, 4, 3, 2, dtype=torch.float64, generator=g) * 2.4 - 1.2).requires_grad_(True)
    sampler = BlendedSampler(num_channels=2, padding_mode="reflection", backend="numba").double()
    t = torch.tensor([-0.5, 0.7], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda i, gr, tt: torch.func.functional_call(sampler, {"t": tt}, (i, gr)), (x, grid, t)
    )
