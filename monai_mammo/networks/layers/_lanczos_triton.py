"""Triton CUDA kernels of the 2D Lanczos grid sampler: forward, and backward with respect to input and grid.

One program handles ``BLOCK`` output pixels (flattened over batch, rows and columns). The 2a x-weights and
2a y-weights of each pixel are held as (BLOCK, KP) blocks (KP = 2a rounded up to a power of two, extra
columns masked), normalised by their row sums; the taps are gathered one kernel row at a time. The input
gradient is scattered with atomic adds. Triton is optional: without it ``has_triton`` is False and CUDA
tensors go to the pure-PyTorch reference (see :func:`~monai_mammo.networks.layers.lanczos.select_backend`).
Checked against the reference with ``TRITON_INTERPRET=1`` on CPU tensors; not yet timed on a GPU.
"""

# Triton reads ``tl.constexpr`` annotations, which mypy cannot resolve through ``optional_import``.
# mypy: disable-error-code="name-defined"
from __future__ import annotations

from typing import Any

import torch
from monai.utils import optional_import

triton, has_triton = optional_import("triton")
tl, _ = optional_import("triton.language")

__all__ = ["has_triton", "triton_lanczos_grid_sample"]

_PADDING_CODES = {"zeros": 0, "border": 1, "reflection": 2}
_BLOCK = 64

_fwd_kernel: Any = None
_bwd_kernel: Any = None

if has_triton:  # pragma: no cover - needs triton (a CUDA build of torch, or TRITON_INTERPRET=1)

    @triton.jit
    def _coordinate(g, size, PAD: tl.constexpr, ALIGN: tl.constexpr):
        """``grid_sample``'s coordinate mapping: pixel coordinate and d(coordinate)/d(grid)."""
        sizef = size * 1.0
        if ALIGN:
            scale = (sizef - 1.0) / 2.0
            x = (g + 1.0) * scale
        else:
            scale = sizef / 2.0
            x = ((g + 1.0) * sizef - 1.0) / 2.0
        d = tl.zeros_like(x) + scale
        if PAD == 2:
            if ALIGN:
                low = 0.0
                span = sizef - 1.0
            else:
                low = -0.5
                span = sizef
            v = x - low
            sign = tl.where(v < 0.0, -1.0, 1.0)
            v = tl.abs(v)
            safe = tl.maximum(span, 1.0)
            flips = tl.floor(v / safe)
            extra = v - flips * safe
            even = (flips - 2.0 * tl.floor(flips / 2.0)) == 0.0
            x = tl.where(even, extra + low, span - extra + low)
            d = d * tl.where(even, sign, -sign)
            x = tl.where(span > 0.0, x, 0.0)
            d = tl.where(span > 0.0, d, 0.0)
        if PAD >= 1:
            out = (x <= 0.0) | (x >= sizef - 1.0)
            x = tl.minimum(tl.maximum(x, 0.0), sizef - 1.0)
            d = tl.where(out, 0.0, d)
        return x, d

    @triton.jit
    def _index(i, size, PAD: tl.constexpr, ALIGN: tl.constexpr):
        """Pixel read by tap position ``i`` and whether it reads the image (False: zeros padding)."""
        inside = (i >= 0) & (i < size)
        if PAD == 0:
            return tl.minimum(tl.maximum(i, 0), size - 1), inside
        if PAD == 1:
            return tl.minimum(tl.maximum(i, 0), size - 1), inside | True
        if ALIGN:
            period = tl.maximum(2 * (size - 1), 1)
            m = ((i % period) + period) % period
            m = tl.where(m >= size, period - m, m)
        else:
            period = 2 * size
            m = ((i % period) + period) % period
            m = tl.where(m >= size, period - 1 - m, m)
        m = tl.where(size == 1, 0, m)
        return m, inside | True

    @triton.jit
    def _lanczos(t, A: tl.constexpr):
        """Lanczos kernel L(t) and its derivative (Taylor expansion near t = 0)."""
        PI: tl.constexpr = 3.141592653589793
        small = tl.abs(t) < 1e-4
        ts = tl.where(small, 1.0, t)
        s1 = tl.sin(PI * ts)
        c1 = tl.cos(PI * ts)
        s2 = tl.sin(PI * ts / A)
        c2 = tl.cos(PI * ts / A)
        den = PI * PI * ts * ts
        lk = A * s1 * s2 / den
        dk = A * (PI * c1 * s2 + (PI / A) * s1 * c2) / den - 2.0 * lk / ts
        c = PI * PI / 6.0 * (1.0 + 1.0 / (A * A))
        return tl.where(small, 1.0 - c * t * t, lk), tl.where(small, -2.0 * c * t, dk)

    @triton.jit
    def _axis(coord, size, kk, A: tl.constexpr, PAD: tl.constexpr, ALIGN: tl.constexpr):
        """(BLOCK, KP) normalised weights, their x-derivatives, pixel indices and in-image masks along one axis."""
        x, d = _coordinate(coord, size, PAD, ALIGN)
        ok = (x > -A - 1.0) & (x < size + A)  # False for NaN and far outside
        x = tl.where(ok, x, 0.0)
        fl = tl.floor(x)
        tap = (fl[:, None] - (A - 1) + kk[None, :]).to(tl.int32)
        lk, dk = _lanczos(x[:, None] - (fl[:, None] - (A - 1) + kk[None, :]), A)
        used = kk[None, :] < 2 * A
        lk = tl.where(used, lk, 0.0)
        dk = tl.where(used, dk, 0.0)
        total = tl.sum(lk, axis=1)
        dtotal = tl.sum(dk, axis=1)
        w = lk / total[:, None]
        dw = (dk - w * dtotal[:, None]) / total[:, None]
        idx, inside = _index(tap, size, PAD, ALIGN)
        return w, dw, idx, inside & used & ok[:, None], d, ok

    @triton.jit
    def _fwd_kernel(
        inp, grid, out, C, H, W, TOTAL, HW_OUT, A: tl.constexpr, KP: tl.constexpr, PAD: tl.constexpr,
        ALIGN: tl.constexpr, BLOCK: tl.constexpr,
    ):  # fmt: skip
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        pmask = offs < TOTAL
        n = offs // HW_OUT
        p = offs % HW_OUT
        kk = tl.arange(0, KP)
        gx = tl.load(grid + offs * 2, mask=pmask, other=0.0)
        gy = tl.load(grid + offs * 2 + 1, mask=pmask, other=0.0)
        wx, _dwx, ix, mx, _dx, okx = _axis(gx, W, kk, A, PAD, ALIGN)
        wy, _dwy, iy, my, _dy, oky = _axis(gy, H, kk, A, PAD, ALIGN)
        for c in range(C):
            base = (n * C + c).to(tl.int64) * H * W
            acc = tl.zeros_like(gx)
            for j in tl.static_range(2 * A):
                sel = kk[None, :] == j
                wyj = tl.sum(tl.where(sel, wy, 0.0), axis=1)
                yj = tl.sum(tl.where(sel, iy, 0), axis=1)
                myj = tl.sum(tl.where(sel & my, 1, 0), axis=1) > 0
                m = mx & myj[:, None] & pmask[:, None]
                vals = tl.load(inp + base[:, None] + yj[:, None] * W + ix, mask=m, other=0.0)
                acc += wyj * tl.sum(wx * vals, axis=1)
            acc = tl.where(okx & oky, acc, 0.0)
            tl.store(out + (n * C + c).to(tl.int64) * HW_OUT + p, acc, mask=pmask)

    @triton.jit
    def _bwd_kernel(
        inp, grid, grad_out, grad_inp, grad_grid, C, H, W, TOTAL, HW_OUT, NEED_INP: tl.constexpr,
        NEED_GRID: tl.constexpr, A: tl.constexpr, KP: tl.constexpr, PAD: tl.constexpr, ALIGN: tl.constexpr,
        BLOCK: tl.constexpr,
    ):  # fmt: skip
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        pmask = offs < TOTAL
        n = offs // HW_OUT
        p = offs % HW_OUT
        kk = tl.arange(0, KP)
        gx = tl.load(grid + offs * 2, mask=pmask, other=0.0)
        gy = tl.load(grid + offs * 2 + 1, mask=pmask, other=0.0)
        wx, dwx, ix, mx, dx, okx = _axis(gx, W, kk, A, PAD, ALIGN)
        wy, dwy, iy, my, dy, oky = _axis(gy, H, kk, A, PAD, ALIGN)
        ok = okx & oky & pmask
        vx_total = tl.zeros_like(gx)
        vy_total = tl.zeros_like(gx)
        for c in range(C):
            base = (n * C + c).to(tl.int64) * H * W
            go = tl.load(grad_out + (n * C + c).to(tl.int64) * HW_OUT + p, mask=pmask, other=0.0)
            go = tl.where(ok, go, 0.0)
            for j in tl.static_range(2 * A):
                sel = kk[None, :] == j
                wyj = tl.sum(tl.where(sel, wy, 0.0), axis=1)
                dwyj = tl.sum(tl.where(sel, dwy, 0.0), axis=1)
                yj = tl.sum(tl.where(sel, iy, 0), axis=1)
                myj = tl.sum(tl.where(sel & my, 1, 0), axis=1) > 0
                m = mx & myj[:, None] & ok[:, None]
                ptr = base[:, None] + yj[:, None] * W + ix
                if NEED_GRID:
                    vals = tl.load(inp + ptr, mask=m, other=0.0)
                    vx_total += go * wyj * tl.sum(dwx * vals, axis=1)
                    vy_total += go * dwyj * tl.sum(wx * vals, axis=1)
                if NEED_INP:
                    tl.atomic_add(grad_inp + ptr, (go * wyj)[:, None] * wx, mask=m)
        if NEED_GRID:
            tl.store(grad_grid + offs * 2, vx_total * dx, mask=pmask)
            tl.store(grad_grid + offs * 2 + 1, vy_total * dy, mask=pmask)


def _kp(a: int) -> int:
    return 1 << (2 * a - 1).bit_length()


class _TritonLanczos2d(torch.autograd.Function):
    """Autograd wrapper of the Triton kernels (first-order gradients only)."""

    @staticmethod
    def forward(ctx, input, grid, a, pad, align_corners):
        inp = input.detach().contiguous()
        g = grid.detach().contiguous()
        n, c, h, w = inp.shape
        out = torch.empty(n, c, g.shape[1], g.shape[2], dtype=inp.dtype, device=inp.device)
        total = n * g.shape[1] * g.shape[2]
        launch = (triton.cdiv(total, _BLOCK),)
        if total:
            _fwd_kernel[launch](
                inp, g, out, c, h, w, total, g.shape[1] * g.shape[2], A=a, KP=_kp(a), PAD=pad, ALIGN=align_corners,
                BLOCK=_BLOCK,
            )  # fmt: skip
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
        n, c, h, w = inp.shape
        grad_inp = torch.zeros_like(inp) if need_inp else inp
        grad_grid = torch.empty_like(g) if need_grid else g
        total = n * g.shape[1] * g.shape[2]
        if (need_inp or need_grid) and total:
            _bwd_kernel[(triton.cdiv(total, _BLOCK),)](
                inp, g, go, grad_inp, grad_grid, c, h, w, total, g.shape[1] * g.shape[2], NEED_INP=need_inp,
                NEED_GRID=need_grid, A=a, KP=_kp(a), PAD=pad, ALIGN=align_corners, BLOCK=_BLOCK,
            )  # fmt: skip
        return (grad_inp if need_inp else None), (grad_grid if need_grid else None), None, None, None


def triton_lanczos_grid_sample(
    input: torch.Tensor, grid: torch.Tensor, a: int, padding_mode: str, align_corners: bool
) -> torch.Tensor:
    """2D Lanczos grid sampling with the Triton kernels; same conventions as ``lanczos_grid_sample``.

    Computes in float64 when ``input`` or ``grid`` is float64, else float32; returns ``input``'s dtype.
    """
    if not has_triton:
        raise RuntimeError("the triton backend needs triton (installed with CUDA builds of torch).")
    cdtype = torch.float64 if torch.float64 in (input.dtype, grid.dtype) else torch.float32
    with torch.autocast(device_type=input.device.type, enabled=False):
        out = _TritonLanczos2d.apply(
            input.to(cdtype), grid.to(cdtype), int(a), _PADDING_CODES[padding_mode], bool(align_corners)
        )
    return out.to(input.dtype)
