"""lanczos_grid_sample: identity, flat image, PIL's Lanczos, gradients, 3D, autocast, dispatch, bad input.

The native kernels are checked against the reference in ``test_lanczos_numba.py`` / ``test_lanczos_triton.py``;
here the public function runs on every backend available on CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from monai_mammo.networks.layers import LanczosBackend, lanczos_grid_sample, lanczos_kernel, select_backend
from monai_mammo.networks.layers._lanczos_numba import has_numba

BACKENDS = ["reference"] + (["numba"] if has_numba else [])
PADDINGS = ["zeros", "border", "reflection"]


def _affine_grid(theta: list[list[float]], size: tuple[int, ...], align_corners: bool, dtype=torch.float32):
    t = torch.tensor(theta, dtype=dtype).unsqueeze(0).expand(size[0], -1, -1)
    return F.affine_grid(t, list(size), align_corners=align_corners)


def test_kernel_values():
    t = torch.tensor([0.0, 1.0, -2.0, 0.5, 3.0, 3.5])
    k = lanczos_kernel(t, a=3)
    expected = float(np.sinc(0.5) * np.sinc(0.5 / 3))
    torch.testing.assert_close(k, torch.tensor([1.0, 0.0, 0.0, expected, 0.0, 0.0]), atol=1e-7, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_identity_reproduces_input(backend, align_corners, padding_mode):
    x = torch.rand(2, 3, 13, 17, generator=torch.Generator().manual_seed(0))
    grid = _affine_grid([[1, 0, 0], [0, 1, 0]], x.shape, align_corners)
    out = lanczos_grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners, backend=backend)
    assert out.dtype == torch.float32 and out.shape == x.shape
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_flat_image_stays_flat(backend, align_corners):
    # rotation + anisotropic zoom + shift: sample positions at every fractional offset
    x = torch.full((1, 1, 40, 48), 0.7)
    grid = _affine_grid([[0.63, 0.21, 0.04], [-0.17, 0.71, -0.03]], (1, 1, 40, 48), align_corners)
    out = lanczos_grid_sample(x, grid, align_corners=align_corners, backend=backend)
    interior = out[..., 8:-8, 8:-8]  # every tap inside the image
    torch.testing.assert_close(interior, torch.full_like(interior, 0.7), atol=1e-6, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_zeros_padding_fades_to_zero_outside(backend):
    x = torch.ones(1, 1, 10, 10)
    grid = torch.tensor([[[[3.0, 0.0], [0.0, -4.0], [1.0 + 1e-6, 0.0]]]])  # far outside, and at the edge
    out = lanczos_grid_sample(x, grid, backend=backend)
    assert out[0, 0, 0, :2].abs().max() == 0
    # at the image's outer edge half of the kernel mass is outside: about 1/2, like bilinear zeros padding
    assert abs(out[0, 0, 0, 2].item() - 0.5) < 0.1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("size_in", "size_out"), [((16, 20), (40, 50)), ((11, 13), (29, 23))])
def test_upscaling_matches_pil_lanczos(backend, size_in, size_out):
    """PIL's LANCZOS resize is Lanczos-3 (support not widened when upscaling) with normalised weights.

    Both map output pixel i to input position (i + 0.5) * in / out - 0.5 (align_corners=False), so in the
    interior (all 6 taps inside, where PIL's border renormalisation does not apply) they differ only by float32
    rounding of the grid coordinates (~1e-7 relative, times a slope of at most ~2 per pixel for values in
    [0, 1]) and of the outputs: 1e-5 leaves ample margin while a different kernel (bicubic, a=2) is off by >1e-2.
    """
    image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    src = rng.random(size_in).astype(np.float32)
    ref = np.asarray(image.fromarray(src, mode="F").resize(size_out[::-1], image.Resampling.LANCZOS))
    x = torch.from_numpy(src)[None, None]
    grid = _affine_grid([[1, 0, 0], [0, 1, 0]], (1, 1, *size_out), False)
    out = lanczos_grid_sample(x, grid, a=3, backend=backend)[0, 0].numpy()
    m = 9  # output margin: 3 input pixels at scale <= 3
    np.testing.assert_allclose(out[m:-m, m:-m], ref[m:-m, m:-m], atol=1e-5, rtol=0)
    other = lanczos_grid_sample(x, grid, a=2, backend=backend)[0, 0].numpy()
    assert np.abs(other[m:-m, m:-m] - ref[m:-m, m:-m]).max() > 1e-3


@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [False, True])
def test_gradcheck_reference(padding_mode, align_corners):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 1, 6, 7, dtype=torch.float64, generator=g, requires_grad=True)
    grid = (torch.rand(1, 4, 3, 2, dtype=torch.float64, generator=g) * 2.4 - 1.2).requires_grad_(True)

    def f(inp, grd):
        return lanczos_grid_sample(
            inp, grd, padding_mode=padding_mode, align_corners=align_corners, backend="reference"
        )

    assert torch.autograd.gradcheck(f, (x, grid))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_theta(backend):
    x = torch.rand(1, 1, 6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    theta = torch.tensor([[[0.9, 0.15, 0.05], [-0.1, 0.8, 0.1]]], dtype=torch.float64, requires_grad=True)

    def f(th):
        return lanczos_grid_sample(x, F.affine_grid(th, [1, 1, 5, 6], align_corners=False), backend=backend)

    assert torch.autograd.gradcheck(f, (theta,))


@pytest.mark.parametrize("align_corners", [False, True])
def test_3d_reference(align_corners):
    x = torch.rand(1, 2, 5, 6, 7, generator=torch.Generator().manual_seed(3))
    grid = F.affine_grid(torch.eye(3, 4)[None], [1, 2, 5, 6, 7], align_corners=align_corners)
    assert select_backend(x) == LanczosBackend.REFERENCE
    torch.testing.assert_close(lanczos_grid_sample(x, grid, align_corners=align_corners), x, atol=1e-6, rtol=0)
    flat = torch.full((1, 1, 16, 16, 16), 0.3)
    theta = torch.tensor([[[0.8, 0.1, 0, 0.02], [0, 0.7, 0.1, 0], [0.1, 0, 0.9, -0.03]]])
    out = lanczos_grid_sample(flat, F.affine_grid(theta, [1, 1, 8, 8, 8], align_corners=align_corners))
    torch.testing.assert_close(out[..., 2:-2, 2:-2, 2:-2], torch.full((1, 1, 4, 4, 4), 0.3), atol=1e-6, rtol=0)


def test_gradcheck_3d_reference():
    g = torch.Generator().manual_seed(4)
    x = torch.rand(1, 1, 4, 5, 4, dtype=torch.float64, generator=g, requires_grad=True)
    grid = (torch.rand(1, 2, 2, 2, 3, dtype=torch.float64, generator=g) * 2.2 - 1.1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda i, gr: lanczos_grid_sample(i, gr, a=2, padding_mode="border"), (x, grid))


@pytest.mark.parametrize("backend", BACKENDS)
def test_autocast_keeps_dtype_and_float32_coordinates(backend):
    x = torch.rand(1, 1, 24, 24, generator=torch.Generator().manual_seed(5))
    grid = _affine_grid([[0.5, 0.0, 0.1], [0.0, 0.5, -0.2]], (1, 1, 24, 24), False)
    expected = lanczos_grid_sample(x, grid, backend=backend)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = lanczos_grid_sample(x.bfloat16(), grid.bfloat16(), backend=backend)
        out_f32_grid = lanczos_grid_sample(x.bfloat16(), grid, backend=backend)
    assert out.dtype == torch.bfloat16 and out_f32_grid.dtype == torch.bfloat16
    # only the bf16 rounding of the values (input and output, ~2^-8 relative) remains
    torch.testing.assert_close(out_f32_grid.float(), expected, atol=2e-2, rtol=0)


@pytest.mark.parametrize(
    ("input", "grid", "kwargs", "match"),
    [
        (torch.rand(3, 8, 8), torch.zeros(3, 4, 4, 2), {}, "input must be a 4D"),
        (torch.rand(1, 1, 8, 8), torch.zeros(1, 4, 4, 3), {}, "grid must have shape"),
        (torch.rand(1, 1, 8, 8), torch.zeros(1, 4, 2), {}, "grid must have shape"),
        (torch.rand(1, 1, 4, 8, 8), torch.zeros(1, 4, 4, 2), {}, "grid must have shape"),
        (torch.rand(2, 1, 8, 8), torch.zeros(3, 4, 4, 2), {}, "batch size"),
        (torch.rand(1, 1, 8, 8), torch.zeros(1, 4, 4, 2), {"a": 0}, "a \\(the Lanczos window\\)"),
        (torch.rand(1, 1, 8, 8), torch.zeros(1, 4, 4, 2), {"a": 2.5}, "a \\(the Lanczos window\\)"),
        (torch.rand(1, 1, 8, 8), torch.zeros(1, 4, 4, 2), {"padding_mode": "wrap"}, "wrap"),
        (torch.rand(1, 1, 8, 8), torch.zeros(1, 4, 4, 2), {"backend": "cuda"}, "cuda"),
        (torch.rand(1, 1, 4, 8, 8), torch.zeros(1, 2, 4, 4, 3), {"backend": "numba"}, "numba"),
        (torch.rand(1, 1, 8, 8), torch.zeros(1, 4, 4, 2), {"backend": "triton"}, "triton"),
    ],
)
def test_bad_input(input, grid, kwargs, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        lanczos_grid_sample(input, grid, **kwargs)


def test_auto_dispatch_on_cpu():
    expected = LanczosBackend.NUMBA if has_numba else LanczosBackend.REFERENCE
    assert select_backend(torch.zeros(1, 1, 4, 4)) == expected
    assert select_backend(torch.zeros(1, 1, 4, 4), "reference") == LanczosBackend.REFERENCE


def test_auto_backend_is_logged_once_with_the_reason(monkeypatch, caplog):
    """The sampler says once which implementation it uses; the slow fallback says why and what to install."""
    import monai_mammo.networks.layers.lanczos as lanczos_module

    monkeypatch.setattr(lanczos_module, "_ANNOUNCED", set())
    x = torch.zeros(1, 1, 4, 4)
    with caplog.at_level("INFO", logger=lanczos_module.__name__):
        for _ in range(3):
            lanczos_module.select_backend(x)
        monkeypatch.setattr(lanczos_module, "has_numba", False)
        assert lanczos_module.select_backend(x) == "reference"
        lanczos_module.select_backend(x)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "numba kernel" in messages[0] or "reference" in messages[0]
    assert "pure-PyTorch reference: numba is not installed (pip install numba" in messages[1]
