"""The numba CPU kernels equal the pure-PyTorch reference (forward and gradients) and pass gradcheck."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.networks.layers import lanczos_grid_sample
from monai_mammo.networks.layers._lanczos_numba import has_numba

pytestmark = pytest.mark.skipif(not has_numba, reason="numba not installed (pip install 'monai-mammo[fast]')")

PADDINGS = ["zeros", "border", "reflection"]


def _inputs(dtype, seed, n=2, c=3, size=(9, 11), out=(7, 8)):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c, *size, dtype=dtype, generator=g, requires_grad=True)
    # 30% beyond [-1, 1] on each side, so that zeros / border / reflection all matter
    grid = (torch.rand(n, *out, 2, dtype=dtype, generator=g) * 2.6 - 1.3).requires_grad_(True)
    return x, grid


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_numba_equals_reference(dtype, align_corners, padding_mode):
    x, grid = _inputs(dtype, seed=7)
    kw = {"padding_mode": padding_mode, "align_corners": align_corners}
    ref = lanczos_grid_sample(x, grid, backend="reference", **kw)
    nat = lanczos_grid_sample(x, grid, backend="numba", **kw)
    assert nat.dtype == dtype
    grad_out = torch.randn_like(ref)
    ref_grads = torch.autograd.grad(ref, (x, grid), grad_out)
    nat_grads = torch.autograd.grad(nat, (x, grid), grad_out)
    tol = 1e-10 if dtype == torch.float64 else 2e-5
    torch.testing.assert_close(nat, ref, atol=tol, rtol=0)
    for r, n in zip(ref_grads, nat_grads, strict=True):
        torch.testing.assert_close(n, r, atol=tol * 10, rtol=tol)


def test_numba_grid_gradient_alone_and_nan():
    x, grid = _inputs(torch.float64, seed=8)
    only_grid = torch.autograd.grad(lanczos_grid_sample(x.detach(), grid, backend="numba").sum(), grid)[0]
    both = torch.autograd.grad(lanczos_grid_sample(x, grid, backend="numba").sum(), (x, grid))[1]
    torch.testing.assert_close(only_grid, both, atol=1e-12, rtol=0)
    nan_grid = grid.detach().clone()
    nan_grid[0, 0, 0] = float("nan")
    out = lanczos_grid_sample(x.detach(), nan_grid, backend="numba")
    assert out[0, :, 0, 0].eq(0).all() and out.isfinite().all()


@pytest.mark.parametrize(("align_corners", "padding_mode"), [(False, "zeros"), (True, "border"), (False, "reflection")])
def test_gradcheck_numba(align_corners, padding_mode):
    x, grid = _inputs(torch.float64, seed=9, n=1, c=1, size=(6, 7), out=(4, 3))

    def f(inp, grd):
        return lanczos_grid_sample(inp, grd, padding_mode=padding_mode, align_corners=align_corners, backend="numba")

    assert torch.autograd.gradcheck(f, (x, grid))


def test_numba_integer_positions():
    """Sample positions exactly on pixel centres take the exact-formula path: value and gradient stay right."""
    x = torch.rand(1, 1, 6, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(10))
    gx = torch.tensor([-5 / 8, -3 / 8, 1 / 8 + 1e-9, 7 / 8 - 1e-9], dtype=torch.float64)
    gy = torch.tensor([-1 / 6, 1 / 6 + 1e-6, 1 / 2, 5 / 6], dtype=torch.float64)
    grid = torch.stack([gx, gy], -1).reshape(1, 1, 4, 2).requires_grad_(True)
    ref = lanczos_grid_sample(x, grid, backend="reference")
    nat = lanczos_grid_sample(x, grid, backend="numba")
    torch.testing.assert_close(nat, ref, atol=1e-12, rtol=0)
    g_ref = torch.autograd.grad(ref.sum(), grid)[0]
    g_nat = torch.autograd.grad(nat.sum(), grid)[0]
    torch.testing.assert_close(g_nat, g_ref, atol=1e-8, rtol=1e-8)
