"""Numba CPU kernels of the 2D Lanczos grid sampler: forward, and backward with respect to input and grid.

The pure-PyTorch reference gathers ``(2a)^2`` taps per output pixel through large index tensors and is
100x-450x slower than bilinear ``grid_sample``; these kernels loop over output pixels instead, with separable
weights (2a x-weights and 2a y-weights per output pixel, normalised as the product of the 1D sums) computed
for a whole output row at once in vectorised loops (see :func:`._numba_helpers._row_axis`). Work is split
over ``batch * rows`` with ``prange`` (race-free for the output and the grid gradient); the input gradient
is a scatter, so with it the work is split over the batch only. numba is optional (extra ``fast``).
"""

from __future__ import annotations

import torch

from ._numba_helpers import (
    _PADDING_CODES,
    _axis_buffers,
    _njit,
    _prange,
    _row_axis,
    _sample,
    _sample_grad,
    _sample_inside,
    _scatter,
    _tables,
    has_numba,
)

__all__ = ["has_numba", "numba_lanczos_grid_sample"]


@_njit(parallel=True)
def _forward(inp, grid, out, a, pad, align_corners):  # pragma: no cover - compiled
    n_batch, n_chan, h, w_in = inp.shape
    h_out, w_out = out.shape[2], out.shape[3]
    n = 2 * a
    tab = _tables(a)
    for r in _prange(n_batch * h_out):
        b = r // h_out
        oy = r % h_out
        buf, fx, sx, wx, _ = _axis_buffers(w_out, n)
        _, fy, sy, wy, _ = _axis_buffers(w_out, n)
        _row_axis(grid, b, oy, 0, w_in, a, pad, align_corners, tab, buf, fx, sx, wx, wx, False)
        _row_axis(grid, b, oy, 1, h, a, pad, align_corners, tab, buf, fy, sy, wy, wy, False)
        for ox in range(w_out):
            x0 = fx[ox]
            y0 = fy[ox]
            for c in range(n_chan):
                if sx[ox] == 2 and sy[ox] == 2:  # all taps inside: the hot path
                    out[b, c, oy, ox] = _sample_inside(inp, b, c, n, ox, wx, x0, wy, y0)
                elif sx[ox] > 0 and sy[ox] > 0:
                    out[b, c, oy, ox] = _sample(inp, b, c, a, ox, wx, x0, sx[ox], wy, y0, sy[ox], pad, align_corners)
                else:
                    out[b, c, oy, ox] = 0.0


@_njit(parallel=True)
def _backward(inp, grid, grad_out, grad_inp, grad_grid, need_inp, need_grid, a, pad, align_corners):  # pragma: no cover
    """Gradients with respect to the input (when ``need_inp``) and the grid (when ``need_grid``).

    The grid gradient alone is race-free per output row, so the work is split over batch * rows; the input
    gradient is a scatter into overlapping pixels, so with it the work is split over the batch only.
    """
    n_batch, n_chan, h, w_in = inp.shape
    h_out, w_out = grad_out.shape[2], grad_out.shape[3]
    n = 2 * a
    tab = _tables(a)
    rows_per_chunk = h_out if need_inp else 1
    for chunk in _prange(n_batch * h_out // rows_per_chunk):
        bx, fx, sx, wx, dwx = _axis_buffers(w_out, n)
        by, fy, sy, wy, dwy = _axis_buffers(w_out, n)
        for rr in range(rows_per_chunk):
            r = chunk * rows_per_chunk + rr
            b = r // h_out
            oy = r % h_out
            _row_axis(grid, b, oy, 0, w_in, a, pad, align_corners, tab, bx, fx, sx, wx, dwx, need_grid)
            _row_axis(grid, b, oy, 1, h, a, pad, align_corners, tab, by, fy, sy, wy, dwy, need_grid)
            for ox in range(w_out):
                gx = 0.0
                gy = 0.0
                if sx[ox] > 0 and sy[ox] > 0:
                    for c in range(n_chan):
                        go = grad_out[b, c, oy, ox]
                        if need_inp:
                            _scatter(
                                grad_inp, b, c, a, ox, go, wx, fx[ox], sx[ox], wy, fy[ox], sy[ox], pad, align_corners
                            )
                        if need_grid:
                            _, vx, vy = _sample_grad(
                                inp, b, c, a, ox, wx, dwx, fx[ox], sx[ox], wy, dwy, fy[ox], sy[ox], pad, align_corners
                            )
                            gx += go * vx
                            gy += go * vy
                if need_grid:
                    grad_grid[b, oy, ox, 0] = gx * bx[0, ox]
                    grad_grid[b, oy, ox, 1] = gy * by[0, ox]


class _NumbaLanczos2d(torch.autograd.Function):
    """Autograd wrapper of the numba kernels (first-order gradients only)."""

    @staticmethod
    def forward(ctx, input, grid, a, pad, align_corners):
        inp = input.detach().contiguous()
        g = grid.detach().contiguous()
        out = torch.empty(inp.shape[0], inp.shape[1], g.shape[1], g.shape[2], dtype=inp.dtype)
        if out.numel():
            _forward(inp.numpy(), g.numpy(), out.numpy(), a, pad, align_corners)
        ctx.save_for_backward(inp, g)
        ctx.params = (a, pad, align_corners)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        inp, g = ctx.saved_tensors
        a, pad, align_corners = ctx.params
        need_inp, need_grid = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        go = grad_out.contiguous().to(inp.dtype)
        grad_inp = torch.zeros_like(inp) if need_inp else torch.empty(0, 1, 1, 1, dtype=inp.dtype)
        grad_grid = torch.empty_like(g) if need_grid else torch.empty(0, 1, 1, 2, dtype=g.dtype)
        if (need_inp or need_grid) and go.numel():
            _backward(
                inp.numpy(),
                g.numpy(),
                go.numpy(),
                grad_inp.numpy(),
                grad_grid.numpy(),
                need_inp,
                need_grid,
                a,
                pad,
                align_corners,
            )
        return (grad_inp if need_inp else None), (grad_grid if need_grid else None), None, None, None


def numba_lanczos_grid_sample(
    input: torch.Tensor, grid: torch.Tensor, a: int, padding_mode: str, align_corners: bool
) -> torch.Tensor:
    """2D Lanczos grid sampling on CPU with the numba kernels; same conventions as ``lanczos_grid_sample``.

    Computes in float64 when ``input`` or ``grid`` is float64, else float32; returns ``input``'s dtype.
    """
    if not has_numba:
        raise RuntimeError("the numba backend needs numba (a dependency of monai-mammo): pip install numba.")
    cdtype = torch.float64 if torch.float64 in (input.dtype, grid.dtype) else torch.float32
    with torch.autocast(device_type="cpu", enabled=False):
        out = _NumbaLanczos2d.apply(
            input.to(cdtype), grid.to(cdtype), int(a), _PADDING_CODES[padding_mode], bool(align_corners)
        )
    return out.to(input.dtype)
