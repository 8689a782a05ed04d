"""Fused numba CPU kernels of the blended sampler: ``w * lanczos + (1 - w) * bilinear`` in one pass.

Composing :func:`lanczos_grid_sample` with ``grid_sample`` and a ``lerp`` costs a bilinear pass of its own,
three output-sized tensors more in the forward pass and as many in the backward pass. These kernels compute
the bilinear sample (exactly as ``grid_sample``: same coordinate mapping, taps outside the image read 0) from
the coordinates the Lanczos weights already need, and return the gradients with respect to the input, the
grid and the blend weights (``sum g * (lanczos - bilinear)`` per channel) in the same loops.
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
    _sample_grad_inside,
    _sample_inside,
    _scatter,
    _tables,
    has_numba,
)

__all__ = ["numba_blended_grid_sample"]


@_njit(parallel=False)
def _bilinear(inp, b, c, x0, tx, y0, ty, deriv):  # pragma: no cover - compiled
    """Bilinear sample of plane (b, c) at (x0 + tx, y0 + ty), taps outside read 0; and d/dx, d/dy when ``deriv``."""
    h, w_in = inp.shape[2], inp.shape[3]
    x1 = x0 + 1
    y1 = y0 + 1
    v00 = inp[b, c, y0, x0] if 0 <= y0 < h and 0 <= x0 < w_in else 0.0
    v01 = inp[b, c, y0, x1] if 0 <= y0 < h and 0 <= x1 < w_in else 0.0
    v10 = inp[b, c, y1, x0] if 0 <= y1 < h and 0 <= x0 < w_in else 0.0
    v11 = inp[b, c, y1, x1] if 0 <= y1 < h and 0 <= x1 < w_in else 0.0
    val = (1.0 - ty) * ((1.0 - tx) * v00 + tx * v01) + ty * ((1.0 - tx) * v10 + tx * v11)
    if not deriv:
        return val, 0.0, 0.0
    dx = (1.0 - ty) * (v01 - v00) + ty * (v11 - v10)
    dy = (1.0 - tx) * (v10 - v00) + tx * (v11 - v01)
    return val, dx, dy


@_njit(parallel=False)
def _bilinear_scatter(grad_inp, b, c, x0, tx, y0, ty, g):  # pragma: no cover - compiled
    h, w_in = grad_inp.shape[2], grad_inp.shape[3]
    for j in range(2):
        yj = y0 + j
        if yj < 0 or yj >= h:
            continue
        wy = ty if j == 1 else 1.0 - ty
        for k in range(2):
            xk = x0 + k
            if 0 <= xk < w_in:
                grad_inp[b, c, yj, xk] += g * wy * (tx if k == 1 else 1.0 - tx)


@_njit(parallel=True)
def _blend_forward(inp, grid, weight, out, a, pad, align_corners):  # pragma: no cover - compiled
    n_batch, n_chan, h, w_in = inp.shape
    h_out, w_out = out.shape[2], out.shape[3]
    n = 2 * a
    tab = _tables(a)
    for r in _prange(n_batch * h_out):
        b = r // h_out
        oy = r % h_out
        bx, fx, sx, wx, _ = _axis_buffers(w_out, n)
        by, fy, sy, wy, _ = _axis_buffers(w_out, n)
        _row_axis(grid, b, oy, 0, w_in, a, pad, align_corners, tab, bx, fx, sx, wx, wx, False)
        _row_axis(grid, b, oy, 1, h, a, pad, align_corners, tab, by, fy, sy, wy, wy, False)
        for ox in range(w_out):
            x0 = fx[ox] + a - 1  # bilinear taps: (x0, x0 + 1), inside the Lanczos taps
            y0 = fy[ox] + a - 1
            tx = bx[1, ox]
            ty = by[1, ox]
            for c in range(n_chan):
                if sx[ox] == 2 and sy[ox] == 2:  # all taps inside: the hot path
                    lan = _sample_inside(inp, b, c, n, ox, wx, fx[ox], wy, fy[ox])
                    bil = (1.0 - ty) * ((1.0 - tx) * inp[b, c, y0, x0] + tx * inp[b, c, y0, x0 + 1]) + ty * (
                        (1.0 - tx) * inp[b, c, y0 + 1, x0] + tx * inp[b, c, y0 + 1, x0 + 1]
                    )
                    out[b, c, oy, ox] = bil + weight[c] * (lan - bil)
                elif sx[ox] > 0 and sy[ox] > 0:
                    lan = _sample(inp, b, c, a, ox, wx, fx[ox], sx[ox], wy, fy[ox], sy[ox], pad, align_corners)
                    bil, _, _ = _bilinear(inp, b, c, x0, tx, y0, ty, False)
                    out[b, c, oy, ox] = bil + weight[c] * (lan - bil)
                else:
                    out[b, c, oy, ox] = 0.0


@_njit(parallel=True)
def _blend_backward(
    inp, grid, weight, grad_out, grad_inp, grad_grid, grad_w, need_inp, need_grid, a, pad, align_corners
):  # pragma: no cover - compiled
    """Gradients w.r.t. input (when ``need_inp``), grid (when ``need_grid``) and, per output row, the weights."""
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
            _row_axis(grid, b, oy, 0, w_in, a, pad, align_corners, tab, bx, fx, sx, wx, dwx, True)
            _row_axis(grid, b, oy, 1, h, a, pad, align_corners, tab, by, fy, sy, wy, dwy, True)
            for ox in range(w_out):
                gx = 0.0
                gy = 0.0
                if sx[ox] > 0 and sy[ox] > 0:
                    x0 = fx[ox] + a - 1
                    y0 = fy[ox] + a - 1
                    tx = bx[1, ox]
                    ty = by[1, ox]
                    for c in range(n_chan):
                        go = grad_out[b, c, oy, ox]
                        wc = weight[c]
                        if sx[ox] == 2 and sy[ox] == 2:  # all taps inside: the hot path
                            lan, vx, vy = _sample_grad_inside(inp, b, c, n, ox, wx, dwx, fx[ox], wy, dwy, fy[ox])
                            v00 = inp[b, c, y0, x0]
                            v01 = inp[b, c, y0, x0 + 1]
                            v10 = inp[b, c, y0 + 1, x0]
                            v11 = inp[b, c, y0 + 1, x0 + 1]
                            bil = (1.0 - ty) * ((1.0 - tx) * v00 + tx * v01) + ty * ((1.0 - tx) * v10 + tx * v11)
                            bdx = (1.0 - ty) * (v01 - v00) + ty * (v11 - v10)
                            bdy = (1.0 - tx) * (v10 - v00) + tx * (v11 - v01)
                        else:
                            lan, vx, vy = _sample_grad(
                                inp, b, c, a, ox, wx, dwx, fx[ox], sx[ox], wy, dwy, fy[ox], sy[ox], pad, align_corners
                            )
                            bil, bdx, bdy = _bilinear(inp, b, c, x0, tx, y0, ty, True)
                        grad_w[r, c] += go * (lan - bil)
                        if need_inp:
                            _scatter(
                                grad_inp,
                                b,
                                c,
                                a,
                                ox,
                                go * wc,
                                wx,
                                fx[ox],
                                sx[ox],
                                wy,
                                fy[ox],
                                sy[ox],
                                pad,
                                align_corners,
                            )
                            _bilinear_scatter(grad_inp, b, c, x0, tx, y0, ty, go * (1.0 - wc))
                        if need_grid:
                            gx += go * (wc * vx + (1.0 - wc) * bdx)
                            gy += go * (wc * vy + (1.0 - wc) * bdy)
                if need_grid:
                    grad_grid[b, oy, ox, 0] = gx * bx[0, ox]
                    grad_grid[b, oy, ox, 1] = gy * by[0, ox]


class _NumbaBlended2d(torch.autograd.Function):
    """Autograd wrapper of the fused kernels (first-order gradients only)."""

    @staticmethod
    def forward(ctx, input, grid, weight, a, pad, align_corners):
        inp = input.detach().contiguous()
        g = grid.detach().contiguous()
        w = weight.detach().to(torch.float64).contiguous()
        out = torch.empty(inp.shape[0], inp.shape[1], g.shape[1], g.shape[2], dtype=inp.dtype)
        if out.numel():
            _blend_forward(inp.numpy(), g.numpy(), w.numpy(), out.numpy(), a, pad, align_corners)
        ctx.save_for_backward(inp, g, w)
        ctx.params = (a, pad, align_corners, weight.dtype)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        inp, g, w = ctx.saved_tensors
        a, pad, align_corners, w_dtype = ctx.params
        need_inp, need_grid = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        go = grad_out.contiguous().to(inp.dtype)
        grad_inp = torch.zeros_like(inp) if need_inp else torch.empty(0, 1, 1, 1, dtype=inp.dtype)
        grad_grid = torch.empty_like(g) if need_grid else torch.empty(0, 1, 1, 2, dtype=g.dtype)
        grad_w = torch.zeros(go.shape[0] * go.shape[2], go.shape[1], dtype=torch.float64)  # per output row
        if go.numel():
            _blend_backward(
                inp.numpy(), g.numpy(), w.numpy(), go.numpy(), grad_inp.numpy(), grad_grid.numpy(), grad_w.numpy(),
                need_inp, need_grid, a, pad, align_corners,
            )  # fmt: skip
        return (
            grad_inp if need_inp else None,
            grad_grid if need_grid else None,
            grad_w.sum(0).to(w_dtype) if ctx.needs_input_grad[2] else None,
            None,
            None,
            None,
        )


def numba_blended_grid_sample(
    input: torch.Tensor, grid: torch.Tensor, weight: torch.Tensor, a: int, padding_mode: str, align_corners: bool
) -> torch.Tensor:
    """``weight * lanczos_grid_sample + (1 - weight) * grid_sample(bilinear)`` on 2D CPU tensors, fused.

    Args:
        input: (N, C, H, W) tensor.
        grid: (N, H_out, W_out, 2) grid in ``grid_sample``'s convention.
        weight: blend weight, a scalar or one per channel (C,).
        a: Lanczos window.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``.
        align_corners: as in ``grid_sample``.
    """
    if not has_numba:
        raise RuntimeError("the numba backend needs numba (a dependency of monai-mammo): pip install numba.")
    cdtype = torch.float64 if torch.float64 in (input.dtype, grid.dtype) else torch.float32
    with torch.autocast(device_type="cpu", enabled=False):
        w = weight.reshape(-1).expand(input.shape[1]) if weight.numel() == 1 else weight.reshape(-1)
        out = _NumbaBlended2d.apply(
            input.to(cdtype), grid.to(cdtype), w, int(a), _PADDING_CODES[padding_mode], bool(align_corners)
        )
    return out.to(input.dtype)
