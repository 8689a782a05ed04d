"""The Triton kernels equal the pure-PyTorch reference (forward and gradients) and pass gradcheck.

Runs on a CUDA device when there is one, else on CPU tensors under Triton's interpreter
(``TRITON_INTERPRET=1 python -m pytest tests/networks/layers/test_lanczos_triton.py``); skipped without Triton.
"""

from __future__ import annotations

import os

import pytest
import torch

from monai_mammo.networks.layers import lanczos_grid_sample
from monai_mammo.networks.layers._lanczos_triton import has_triton, triton_lanczos_grid_sample

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
pytestmark = pytest.mark.skipif(
    not has_triton or (DEVICE == "cpu" and os.environ.get("TRITON_INTERPRET") != "1"),
    reason="needs triton and a CUDA device (or TRITON_INTERPRET=1 for CPU tensors)",
)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_triton_equals_reference(dtype, align_corners, padding_mode):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 9, 11, dtype=dtype, generator=g).to(DEVICE).requires_grad_(True)
    grid = (torch.rand(2, 7, 8, 2, dtype=dtype, generator=g) * 2.6 - 1.3).to(DEVICE).requires_grad_(True)
    ref = lanczos_grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners, backend="reference")
    tri = triton_lanczos_grid_sample(x, grid, 3, padding_mode, align_corners)
    tol = 1e-10 if dtype == torch.float64 else 2e-5
    torch.testing.assert_close(tri, ref, atol=tol, rtol=0)
    go = torch.randn_like(ref)
    for r, t in zip(torch.autograd.grad(ref, (x, grid), go), torch.autograd.grad(tri, (x, grid), go), strict=True):
        torch.testing.assert_close(t, r, atol=tol * 10, rtol=tol)


def test_triton_gradcheck():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 1, 6, 7, dtype=torch.float64, generator=g).to(DEVICE).requires_grad_(True)
    grid = (torch.rand(1, 4, 3, 2, dtype=torch.float64, generator=g) * 2.4 - 1.2).to(DEVICE).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda i, gr: triton_lanczos_grid_sample(i, gr, 3, "reflection", False), (x, grid))
