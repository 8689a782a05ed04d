"""Numba helpers of the Lanczos sampler kernels: coordinates, padding, row weights, tap loops.

Compiled functions shared by the plain (:mod:`._lanczos_numba`) and the fused blended
(:mod:`._blended_numba`) CPU kernels. numba is optional (extra ``fast``): without it ``has_numba`` is False
and the decorators leave the functions as plain Python (never called then).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from monai.utils import optional_import

numba, has_numba = optional_import("numba")

_PADDING_CODES = {"zeros": 0, "border": 1, "reflection": 2}


def _njit(parallel: bool) -> Any:
    """``numba.njit`` with the project's settings, or a decorator that leaves the function alone without numba.

    ``fastmath`` off (the summation order is the code's), ``cache=True`` (compiled once per dtype, on disk),
    ``error_model="numpy"`` (IEEE division: no zero-division checks, so that the weight loops vectorise).
    """
    if has_numba:
        if parallel:
            return numba.njit(parallel=True, fastmath=False, cache=True, nogil=True, error_model="numpy")
        return numba.njit(fastmath=False, cache=True, nogil=True, error_model="numpy")
    return lambda f: f


_prange = numba.prange if has_numba else range


@_njit(parallel=False)
def _coordinate(g, size, pad, align_corners):  # pragma: no cover - compiled
    """Pixel coordinate of grid value ``g`` along an axis of ``size`` pixels, and its derivative ``dx/dg``."""
    if align_corners:
        scale = (size - 1) / 2.0
        x = (g + 1.0) * scale
    else:
        scale = size / 2.0
        x = ((g + 1.0) * size - 1.0) / 2.0
    d = scale
    if pad == 2:  # reflection, as grid_sample's reflect_coordinates_set_grad
        if align_corners:
            low, span = 0.0, float(size - 1)
        else:
            low, span = -0.5, float(size)
        if span <= 0.0:
            return 0.0, 0.0
        v = x - low
        sign = 1.0
        if v < 0.0:
            v = -v
            sign = -1.0
        flips = math.floor(v / span)
        extra = v - flips * span  # fmod for v >= 0 (numba has no math.fmod)
        if flips % 2.0 == 0.0:
            x = extra + low
            d = d * sign
        else:
            x = span - extra + low
            d = -d * sign
    if pad >= 1:  # border, and the clip after reflection
        if x <= 0.0:
            return 0.0, 0.0
        if x >= size - 1:
            return float(size - 1), 0.0
    return x, d


@_njit(parallel=False)
def _index(i, size, pad, align_corners):  # pragma: no cover - compiled
    """Pixel read by tap ``i``; -1 for an out-of-bounds tap with zeros padding."""
    if 0 <= i < size:
        return i
    if pad == 0:
        return -1
    if pad == 1 or size == 1:
        return 0 if i < 0 else size - 1
    if align_corners:
        period = 2 * (size - 1)
        m = i % period
        return period - m if m >= size else m
    period = 2 * size
    m = i % period
    return period - 1 - m if m >= size else m


@_njit(parallel=False)
def _weights_exact(f, a, w, dw):  # pragma: no cover - compiled
    """Normalised weights and derivatives from the plain formula, for ``f`` (the fractional part) near 0 or 1."""
    pi = math.pi
    total = 0.0
    dtotal = 0.0
    for k in range(2 * a):
        t = f + a - 1 - k
        if abs(t) < 1e-5:  # Taylor expansion of sinc(t) sinc(t / a) at 0
            c = (pi * pi / 6.0) * (1.0 + 1.0 / (a * a))
            lk = 1.0 - c * t * t
            dk = -2.0 * c * t
        else:
            st = math.sin(pi * t)
            sa = math.sin(pi * t / a)
            den = pi * pi * t * t
            lk = a * st * sa / den
            dk = a * (pi * math.cos(pi * t) * sa + (pi / a) * st * math.cos(pi * t / a)) / den - 2.0 * lk / t
        w[k] = lk
        dw[k] = dk
        total += lk
        dtotal += dk
    for k in range(2 * a):
        w[k] = w[k] / total
        dw[k] = (dw[k] - w[k] * dtotal) / total


@_njit(parallel=False)
def _tables(a):  # pragma: no cover - compiled
    """Per-tap constants: cos(k pi / a), sin(k pi / a), (-1)^(a-1-k), and a - 1 - k."""
    tab = np.empty((4, 2 * a))
    for k in range(2 * a):
        tab[0, k] = math.cos(k * math.pi / a)
        tab[1, k] = math.sin(k * math.pi / a)
        tab[2, k] = 1.0 if (a - 1 - k) % 2 == 0 else -1.0
        tab[3, k] = a - 1 - k
    return tab


@_njit(parallel=False)
def _axis_buffers(w_out, n):  # pragma: no cover - compiled
    """Scratch arrays of one axis for one output row, as :func:`_row_axis` fills them.

    Returns ``(buf, first, state, w, dw)``: 6 x ``w_out`` floats of per-pixel scratch, the first tap and the
    in/out-of-bounds state per output pixel, and the ``n`` = 2a tap weights and their derivatives.
    """
    return (
        np.empty((6, w_out)),
        np.empty(w_out, np.int64),
        np.empty(w_out, np.int64),
        np.empty((n, w_out)),
        np.empty((n, w_out)),
    )


@_njit(parallel=False)
def _row_axis(grid, b, oy, comp, size, a, pad, align_corners, tab, buf, first, state, w, dw, deriv):  # pragma: no cover
    """Weights along one axis for a whole output row: ``w[k, ox]`` (and ``dw[k, ox] = dw/dx`` when ``deriv``).

    ``state[ox]`` is 0 when every tap reads zero padding (or the coordinate is NaN), 1 when some tap needs
    padding, 2 when all taps are inside; ``first[ox]`` is the first tap's position; ``buf[0]`` gets ``dx/dg``
    and ``buf[1]`` the fractional part of x.

    With ``t_k = f + a - 1 - k`` (``f`` the fractional part of x), ``sin(pi t_k) = (-1)^(a-1-k) sin(pi f)``
    is a common factor that cancels in the normalisation, so ``w_k = u_k / sum(u)`` with
    ``u_k = (-1)^(a-1-k) sin(pi t_k / a) / t_k^2``, where ``sin(pi t_k / a)`` comes from one sine and one
    cosine by angle addition. Those are Taylor polynomials (degree 17 and 16 on |phi| <= pi / (2a): error
    < 1e-12 for a = 1, < 1e-20 for a = 3) rather than libm calls, so that the loops over the row are
    branch-free and vectorise; ``f`` within 1e-4 of 0 or 1 (where ``1 / t_k^2`` blows up) is redone with the
    plain formula.
    """
    n_out = first.shape[0]
    pa = math.pi / a
    beta = math.pi * (a - 0.5) / a
    cb = math.cos(beta)
    sb = math.sin(beta)
    dg = buf[0]
    fr = buf[1]
    s0 = buf[2]
    c0 = buf[3]
    tot = buf[4]
    dtot = buf[5]
    if pad == 0:  # zeros padding: a branch-free loop that vectorises
        scale = (size - 1) / 2.0 if align_corners else size / 2.0
        shift = (size - 1) / 2.0
        for ox in range(n_out):
            x = grid[b, oy, ox, comp] * scale + shift
            inside = x > -a - 1.0 and x < size + a  # False for NaN
            x = x if inside else 0.5
            fl = math.floor(x)
            fr[ox] = x - fl
            f0 = int(fl) - a + 1
            first[ox] = f0
            dg[ox] = scale
            state[ox] = (2 if f0 >= 0 and f0 + 2 * a <= size else 1) if inside else 0
    else:
        for ox in range(n_out):
            x, d = _coordinate(grid[b, oy, ox, comp], size, pad, align_corners)
            dg[ox] = d
            if not (x > -a - 1.0 and x < size + a):  # NaN
                state[ox] = 0
                fr[ox] = 0.5
                first[ox] = 0
                continue
            fl = math.floor(x)
            fr[ox] = x - fl
            f0 = int(fl) - a + 1
            first[ox] = f0
            state[ox] = 2 if f0 >= 0 and f0 + 2 * a <= size else 1
    for ox in range(n_out):  # sin and cos of theta_0 = pi (f + a - 1) / a = phi + beta, phi = pi (f - 1/2) / a
        p = pa * (fr[ox] - 0.5)
        p2 = p * p
        sp = 2.8114572543455206e-15
        sp = sp * p2 - 7.647163731819816e-13
        sp = sp * p2 + 1.6059043836821613e-10
        sp = sp * p2 - 2.505210838544172e-08
        sp = sp * p2 + 2.7557319223985893e-06
        sp = sp * p2 - 0.0001984126984126984
        sp = sp * p2 + 0.008333333333333333
        sp = sp * p2 - 0.16666666666666666
        sp = sp * p2 + 1.0
        sp = sp * p
        cp = 4.779477332387385e-14
        cp = cp * p2 - 1.1470745597729725e-11
        cp = cp * p2 + 2.08767569878681e-09
        cp = cp * p2 - 2.755731922398589e-07
        cp = cp * p2 + 2.48015873015873e-05
        cp = cp * p2 - 0.001388888888888889
        cp = cp * p2 + 0.041666666666666664
        cp = cp * p2 - 0.5
        cp = cp * p2 + 1.0
        s0[ox] = sp * cb + cp * sb
        c0[ox] = cp * cb - sp * sb
        tot[ox] = 0.0
        dtot[ox] = 0.0
    for k in range(2 * a):
        ck = tab[0, k]
        sk = tab[1, k]
        sg = tab[2, k]
        off = tab[3, k]
        if deriv:
            for ox in range(n_out):
                inv = 1.0 / (fr[ox] + off)
                sa = s0[ox] * ck - c0[ox] * sk
                q = sg * inv * inv
                u = sa * q
                w[k, ox] = u
                tot[ox] += u
                du = (pa * (c0[ox] * ck + s0[ox] * sk) - 2.0 * sa * inv) * q
                dw[k, ox] = du
                dtot[ox] += du
        else:
            for ox in range(n_out):
                inv = 1.0 / (fr[ox] + off)
                u = (s0[ox] * ck - c0[ox] * sk) * sg * inv * inv
                w[k, ox] = u
                tot[ox] += u
    for ox in range(n_out):
        tot[ox] = 1.0 / tot[ox]
    for k in range(2 * a):
        for ox in range(n_out):
            w[k, ox] *= tot[ox]
        if deriv:
            for ox in range(n_out):
                dw[k, ox] = (dw[k, ox] - w[k, ox] * dtot[ox]) * tot[ox]
    tw = np.empty(2 * a)
    tdw = np.empty(2 * a)
    for ox in range(n_out):
        if state[ox] > 0 and (fr[ox] < 1e-4 or fr[ox] > 1.0 - 1e-4):
            _weights_exact(fr[ox], a, tw, tdw)
            for k in range(2 * a):
                w[k, ox] = tw[k]
                if deriv:
                    dw[k, ox] = tdw[k]


@_njit(parallel=False)
def _tap(first, k, st, size, pad, align_corners):  # pragma: no cover - compiled
    """Pixel read by tap k (-1 for zeros padding)."""
    return first + k if st == 2 else _index(first + k, size, pad, align_corners)


@_njit(parallel=False)
def _sample_inside(inp, b, c, n, ox, wx, x0, wy, y0):  # pragma: no cover - compiled
    """Weighted sum of the n x n taps from (y0, x0), all inside the image: the hot loop.

    Two kernel rows at a time and even / odd taps in separate sums, so that the additions form four short
    dependency chains instead of one long one (n = 2a is even).
    """
    acc0 = 0.0
    acc1 = 0.0
    for j in range(0, n, 2):
        r0 = 0.0
        r1 = 0.0
        q0 = 0.0
        q1 = 0.0
        for k in range(0, n, 2):
            w0 = wx[k, ox]
            w1 = wx[k + 1, ox]
            r0 += w0 * inp[b, c, y0 + j, x0 + k]
            r1 += w1 * inp[b, c, y0 + j, x0 + k + 1]
            q0 += w0 * inp[b, c, y0 + j + 1, x0 + k]
            q1 += w1 * inp[b, c, y0 + j + 1, x0 + k + 1]
        acc0 += wy[j, ox] * (r0 + r1)
        acc1 += wy[j + 1, ox] * (q0 + q1)
    return acc0 + acc1


@_njit(parallel=False)
def _sample_grad_inside(inp, b, c, n, ox, wx, dwx, x0, wy, dwy, y0):  # pragma: no cover - compiled
    """Weighted sum and its x / y derivatives for n x n taps all inside the image (two kernel rows at a time)."""
    val = 0.0
    vx = 0.0
    vy = 0.0
    for j in range(0, n, 2):
        r0 = 0.0
        r1 = 0.0
        d0 = 0.0
        d1 = 0.0
        for k in range(n):
            w = wx[k, ox]
            dw = dwx[k, ox]
            v0 = inp[b, c, y0 + j, x0 + k]
            v1 = inp[b, c, y0 + j + 1, x0 + k]
            r0 += w * v0
            r1 += w * v1
            d0 += dw * v0
            d1 += dw * v1
        val += wy[j, ox] * r0 + wy[j + 1, ox] * r1
        vx += wy[j, ox] * d0 + wy[j + 1, ox] * d1
        vy += dwy[j, ox] * r0 + dwy[j + 1, ox] * r1
    return val, vx, vy


@_njit(parallel=False)
def _sample(inp, b, c, a, ox, wx, fx, sx, wy, fy, sy, pad, align_corners):  # pragma: no cover - compiled
    """Weighted sum of the (2a)^2 taps of plane (b, c) for output column ox."""
    n = 2 * a
    h, w_in = inp.shape[2], inp.shape[3]
    if sx == 2 and sy == 2:
        return _sample_inside(inp, b, c, n, ox, wx, fx, wy, fy)
    acc = 0.0
    for j in range(n):
        yj = _tap(fy, j, sy, h, pad, align_corners)
        if yj < 0:
            continue
        row = 0.0
        for k in range(n):
            xk = _tap(fx, k, sx, w_in, pad, align_corners)
            if xk >= 0:
                row += wx[k, ox] * inp[b, c, yj, xk]
        acc += wy[j, ox] * row
    return acc


@_njit(parallel=False)
def _sample_grad(inp, b, c, a, ox, wx, dwx, fx, sx, wy, dwy, fy, sy, pad, align_corners):  # pragma: no cover
    """The weighted sum of plane (b, c) at column ox and its derivatives w.r.t. the pixel coordinates x, y."""
    n = 2 * a
    if sx == 2 and sy == 2:
        return _sample_grad_inside(inp, b, c, n, ox, wx, dwx, fx, wy, dwy, fy)
    h, w_in = inp.shape[2], inp.shape[3]
    val = 0.0
    vx = 0.0
    vy = 0.0
    for j in range(n):
        yj = _tap(fy, j, sy, h, pad, align_corners)
        if yj < 0:
            continue
        row = 0.0
        drow = 0.0
        if sx == 2:
            for k in range(n):
                v = inp[b, c, yj, fx + k]
                row += wx[k, ox] * v
                drow += dwx[k, ox] * v
        else:
            for k in range(n):
                xk = _index(fx + k, w_in, pad, align_corners)
                if xk >= 0:
                    v = inp[b, c, yj, xk]
                    row += wx[k, ox] * v
                    drow += dwx[k, ox] * v
        val += wy[j, ox] * row
        vx += wy[j, ox] * drow
        vy += dwy[j, ox] * row
    return val, vx, vy


@_njit(parallel=False)
def _scatter(grad_inp, b, c, a, ox, go, wx, fx, sx, wy, fy, sy, pad, align_corners):  # pragma: no cover
    """Add ``go`` times the tap weights of column ox into the input gradient of plane (b, c)."""
    n = 2 * a
    h, w_in = grad_inp.shape[2], grad_inp.shape[3]
    for j in range(n):
        yj = _tap(fy, j, sy, h, pad, align_corners)
        if yj < 0:
            continue
        gw = go * wy[j, ox]
        for k in range(n):
            xk = _tap(fx, k, sx, w_in, pad, align_corners)
            if xk >= 0:
                grad_inp[b, c, yj, xk] += gw * wx[k, ox]
