"""Lanczos grid sampling with the conventions of :func:`torch.nn.functional.grid_sample`.

PyTorch's ``grid_sample`` offers nearest, bilinear and bicubic interpolation only; the blended sampler of
Swapna & Vijaya Kumar (2026) needs Lanczos interpolation, differentiable with respect to both the image and
the sampling grid, so it is written here. :func:`lanczos_grid_sample` is the public function; it dispatches to
a native kernel (numba on CPU, Triton on CUDA) where one fits and to the pure-PyTorch reference
:func:`lanczos_grid_sample_reference` otherwise. See ``docs/source/networks/sampler.md`` for the maths.
"""

from __future__ import annotations

import logging
import math

import torch
from monai.utils import StrEnum, look_up_option

from ._lanczos_numba import has_numba, numba_lanczos_grid_sample
from ._lanczos_triton import has_triton, triton_lanczos_grid_sample

logger = logging.getLogger(__name__)

__all__ = [
    "LanczosBackend",
    "LanczosPadding",
    "lanczos_grid_sample",
    "lanczos_grid_sample_reference",
    "lanczos_kernel",
    "select_backend",
]


class LanczosPadding(StrEnum):
    """Padding modes of :func:`lanczos_grid_sample` (the meaning of ``grid_sample``'s ``padding_mode``)."""

    ZEROS = "zeros"
    BORDER = "border"
    REFLECTION = "reflection"


class LanczosBackend(StrEnum):
    """Implementations of :func:`lanczos_grid_sample`; ``AUTO`` picks the fastest that fits the input."""

    AUTO = "auto"
    REFERENCE = "reference"
    NUMBA = "numba"
    TRITON = "triton"


def lanczos_kernel(t: torch.Tensor, a: int = 3) -> torch.Tensor:
    """The Lanczos kernel ``L(t) = sinc(t) * sinc(t / a)`` for ``|t| < a``, else 0 (``sinc(t) = sin(pi t)/(pi t)``)."""
    return torch.where(t.abs() < a, torch.sinc(t) * torch.sinc(t / a), torch.zeros_like(t))


def _check_args(input: torch.Tensor, grid: torch.Tensor, a: int) -> None:
    if not isinstance(input, torch.Tensor) or input.dim() not in (4, 5):
        shape = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
        raise ValueError(f"input must be a 4D (N, C, H, W) or 5D (N, C, D, H, W) tensor, got {shape}.")
    spatial = input.dim() - 2
    if min(input.shape[2:]) < 1:
        raise ValueError(f"input must have non-empty spatial dimensions, got {tuple(input.shape)}.")
    if not isinstance(grid, torch.Tensor) or grid.dim() != input.dim() or grid.shape[-1] != spatial:
        shape = tuple(grid.shape) if isinstance(grid, torch.Tensor) else type(grid).__name__
        expected = "(N, H_out, W_out, 2)" if spatial == 2 else "(N, D_out, H_out, W_out, 3)"
        raise ValueError(f"grid must have shape {expected} for a {input.dim()}D input, got {shape}.")
    if grid.shape[0] != input.shape[0]:
        raise ValueError(f"grid batch size ({grid.shape[0]}) must equal input batch size ({input.shape[0]}).")
    if isinstance(a, bool) or not isinstance(a, int) or a < 1:
        raise ValueError(f"a (the Lanczos window) must be an integer >= 1, got {a!r}.")
    if not input.is_floating_point() or not grid.is_floating_point():
        raise TypeError(f"input and grid must be floating point, got {input.dtype} and {grid.dtype}.")


def _compute_dtype(input: torch.Tensor, grid: torch.Tensor) -> torch.dtype:
    """float64 when either tensor is float64, else float32 (coordinates stay float32 under autocast)."""
    return torch.float64 if torch.float64 in (input.dtype, grid.dtype) else torch.float32


def _unnormalize(g: torch.Tensor, size: int, align_corners: bool) -> torch.Tensor:
    """Map grid coordinates in [-1, 1] to pixel coordinates, as ``grid_sample`` does."""
    if align_corners:
        return (g + 1) / 2 * (size - 1)
    return ((g + 1) * size - 1) / 2


def _reflect(x: torch.Tensor, twice_low: int, twice_high: int) -> torch.Tensor:
    """``grid_sample``'s ``reflect_coordinates``: reflect ``x`` into [twice_low / 2, twice_high / 2]."""
    if twice_low == twice_high:
        return torch.zeros_like(x)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    x = (x - low).abs()
    extra = torch.fmod(x, span)
    flips = torch.floor(x / span).detach()
    return torch.where(torch.remainder(flips, 2) == 0, extra + low, span - extra + low)


def _pad_coordinate(x: torch.Tensor, size: int, padding: LanczosPadding, align_corners: bool) -> torch.Tensor:
    """Where the sample location goes, exactly as in ``grid_sample`` (``compute_coordinates``)."""
    if padding == LanczosPadding.BORDER:
        return x.clamp(0, size - 1)
    if padding == LanczosPadding.REFLECTION:
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        return x.clamp(0, size - 1)
    return x


def _pad_index(idx: torch.Tensor, size: int, padding: LanczosPadding, align_corners: bool):
    """Map integer tap positions into the image; returns (index, in-bounds mask or None)."""
    if padding == LanczosPadding.ZEROS:
        valid = (idx >= 0) & (idx < size)
        return idx.clamp(0, size - 1), valid
    if padding == LanczosPadding.BORDER or size == 1:
        return idx.clamp(0, size - 1), None
    # reflection: mirror about the reflection axes of the coordinate mapping (0 and size-1 with
    # align_corners, -0.5 and size-0.5 without), so that the padded signal is the one grid_sample reflects.
    if align_corners:
        period = 2 * (size - 1)
        m = torch.remainder(idx, period)
        return torch.where(m >= size, period - m, m), None
    period = 2 * size
    m = torch.remainder(idx, period)
    return torch.where(m >= size, period - 1 - m, m), None


def _axis_taps(coord: torch.Tensor, size: int, a: int, padding: LanczosPadding, align_corners: bool):
    """Normalised 1D Lanczos weights (..., 2a) and tap indices (..., 2a) along one axis.

    Pixel coordinates and weights are computed in float64 (like the numba kernel): in float32 the pixel
    coordinate of a pixel centre is off by up to one ulp of the image size, which alone moves an identity
    resampling by ~1e-6; the weights are returned in ``coord``'s dtype.
    """
    x = _pad_coordinate(_unnormalize(coord.double(), size, align_corners), size, padding, align_corners)
    base = torch.floor(x).detach() - (a - 1)
    taps = base.unsqueeze(-1) + torch.arange(2 * a, device=x.device, dtype=x.dtype)
    w = lanczos_kernel(x.unsqueeze(-1) - taps, a)
    # normalise by the sum over all 2a taps, out-of-bounds ones included (see the module docs)
    w = w / w.sum(-1, keepdim=True)
    idx, valid = _pad_index(taps.long(), size, padding, align_corners)
    if valid is not None:
        w = w * valid
    return w.to(coord.dtype), idx


def lanczos_grid_sample_reference(
    input: torch.Tensor, grid: torch.Tensor, a: int = 3, padding_mode: str = "zeros", align_corners: bool = False
) -> torch.Tensor:
    """Pure-PyTorch Lanczos grid sampling (autograd differentiates it); slow, kept as the reference for tests.

    Same arguments and result as :func:`lanczos_grid_sample`.
    """
    _check_args(input, grid, a)
    padding = look_up_option(padding_mode, LanczosPadding)
    cdtype = _compute_dtype(input, grid)
    with torch.autocast(device_type=input.device.type, enabled=False):
        inp = input.to(cdtype)
        g = grid.to(cdtype)
        n, c = inp.shape[:2]
        sizes = inp.shape[2:]  # (H, W) or (D, H, W)
        out_shape = g.shape[1:-1]
        # grid's last axis is (x, y[, z]) = (W, H[, D]): reverse to match the tensor's spatial axes
        axes = [_axis_taps(g[..., len(sizes) - 1 - d], sizes[d], a, padding, align_corners) for d in range(len(sizes))]
        flat = inp.reshape(n, c, -1)
        p = math.prod(out_shape)
        k = 2 * a
        w_last, i_last = axes[-1]
        w_last = w_last.reshape(n, 1, p, k)
        i_last = i_last.reshape(n, p, k)
        out = torch.zeros(n, c, p, dtype=cdtype, device=inp.device)
        # loop over the taps of the leading axes; gather the 2a taps of the last axis at once
        lead = [(w.reshape(n, 1, p, k), i.reshape(n, p, k)) for w, i in axes[:-1]]
        strides = [math.prod(sizes[d + 1 :]) for d in range(len(sizes))]
        for combo in torch.cartesian_prod(*[torch.arange(k)] * len(lead)).reshape(-1, len(lead)).tolist():
            weight = torch.ones(n, 1, p, dtype=cdtype, device=inp.device)
            offset = torch.zeros(n, p, dtype=torch.long, device=inp.device)
            for (w, i), j, stride in zip(lead, combo, strides[:-1], strict=True):
                weight = weight * w[..., j]
                offset = offset + i[..., j] * stride
            index = (offset.unsqueeze(-1) + i_last).reshape(n, 1, p * k).expand(n, c, p * k)
            vals = torch.gather(flat, 2, index).reshape(n, c, p, k)
            out = out + weight * (vals * w_last).sum(-1)
    return out.reshape(n, c, *out_shape).to(input.dtype)


_ANNOUNCED: set[tuple[str, str]] = set()


def _announce(choice: LanczosBackend, what: str) -> LanczosBackend:
    """Log once per process which implementation ``backend="auto"`` picked, and why (a slow one says so)."""
    if (choice.value, what) not in _ANNOUNCED:
        _ANNOUNCED.add((choice.value, what))
        logger.info("Lanczos grid sampling uses %s.", what)
    return choice


def select_backend(input: torch.Tensor, backend: str = "auto") -> LanczosBackend:
    """The implementation :func:`lanczos_grid_sample` uses for ``input``.

    Dispatch rule for ``backend="auto"``: a 2D (NCHW) CPU tensor goes to the numba kernel when numba is
    installed; a 2D CUDA tensor goes to the Triton kernel when Triton is installed; anything else (3D inputs,
    other devices, missing packages) goes to the pure-PyTorch reference. Forcing ``"numba"`` or ``"triton"``
    where it does not fit raises an error saying why.
    """
    choice = look_up_option(backend, LanczosBackend)
    if choice == LanczosBackend.AUTO:
        if input.dim() == 4 and input.device.type == "cpu" and has_numba:
            return _announce(LanczosBackend.NUMBA, "the numba kernel on the CPU")
        if input.dim() == 4 and input.device.type == "cuda" and has_triton:
            return _announce(LanczosBackend.TRITON, "the Triton kernel on CUDA")
        if input.dim() == 4 and input.device.type == "cpu":
            why = "numba is not installed (pip install numba: about 6x faster)"
        elif input.dim() == 4 and input.device.type == "cuda":
            why = "triton is not installed"
        else:
            why = f"no native kernel for {input.dim() - 2}D inputs on {input.device.type}"
        return _announce(LanczosBackend.REFERENCE, f"the pure-PyTorch reference: {why}")
    if choice == LanczosBackend.NUMBA:
        if not has_numba:
            raise RuntimeError("backend='numba' needs numba (a dependency of monai-mammo): pip install numba.")
        if input.dim() != 4 or input.device.type != "cpu":
            raise ValueError(f"backend='numba' supports 4D CPU inputs only, got {input.dim()}D on {input.device}.")
    if choice == LanczosBackend.TRITON:
        if not has_triton:
            raise RuntimeError("backend='triton' needs triton (installed with CUDA builds of torch).")
        if input.dim() != 4 or input.device.type != "cuda":
            raise ValueError(f"backend='triton' supports 4D CUDA inputs only, got {input.dim()}D on {input.device}.")
    return choice


def lanczos_grid_sample(
    input: torch.Tensor,
    grid: torch.Tensor,
    a: int = 3,
    padding_mode: str = "zeros",
    align_corners: bool = False,
    backend: str = "auto",
) -> torch.Tensor:
    """Sample ``input`` at ``grid`` with a normalised separable Lanczos-``a`` kernel.

    The conventions are those of :func:`torch.nn.functional.grid_sample`: ``grid[..., 0]`` is x (width),
    ``grid[..., 1]`` is y (height), ``grid[..., 2]`` is z (depth), in [-1, 1]; ``align_corners`` and
    ``padding_mode`` mean the same. Each output value is ``sum_k w_k f_k / sum_k w_k`` over the ``(2a)^d``
    nearest pixels, with ``w_k`` the product of the 1D Lanczos weights; out-of-bounds taps read zero
    (``"zeros"``), the nearest border pixel (``"border"``) or the mirrored pixel (``"reflection"``), and
    their weights always count in the normaliser, so ``"zeros"`` fades to 0 outside like ``grid_sample``.
    Coordinates and weights are computed in float32 (float64 for float64 inputs), also under autocast;
    the result has ``input``'s dtype. Differentiable with respect to ``input`` and ``grid``.

    Args:
        input: (N, C, H, W) or (N, C, D, H, W) tensor.
        grid: (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3) sampling locations.
        a: Lanczos window (taps per axis = 2a); 3 is Lanczos-3.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``.
        align_corners: as in ``grid_sample``: -1 and 1 are the centres (True) or the outer edges (False) of
            the corner pixels.
        backend: ``"auto"`` (see :func:`select_backend`), ``"reference"``, ``"numba"`` or ``"triton"``.

    Returns:
        (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out) tensor of ``input``'s dtype.

    Raises:
        ValueError: when a shape, ``a``, ``padding_mode`` or ``backend`` is invalid.

    Example:
        >>> theta = torch.tensor([[[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]])
        >>> grid = torch.nn.functional.affine_grid(theta, (1, 1, 32, 32), align_corners=False)
        >>> lanczos_grid_sample(torch.rand(1, 1, 16, 16), grid).shape
        torch.Size([1, 1, 32, 32])
    """
    _check_args(input, grid, a)
    padding = look_up_option(padding_mode, LanczosPadding)
    choice = select_backend(input, backend)
    if choice == LanczosBackend.NUMBA:
        return numba_lanczos_grid_sample(input, grid, a, str(padding), bool(align_corners))
    if choice == LanczosBackend.TRITON:
        return triton_lanczos_grid_sample(input, grid, a, str(padding), bool(align_corners))
    return lanczos_grid_sample_reference(input, grid, a, str(padding), align_corners)
