"""Numba helpers: the row weights are normalised Lanczos weights, and their derivatives are right."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_mammo.networks.layers import lanczos_kernel
from monai_mammo.networks.layers._numba_helpers import _index, _row_axis, _tables, has_numba

pytestmark = pytest.mark.skipif(not has_numba, reason="numba not installed (pip install 'monai-mammo[fast]')")


def _weights(x: np.ndarray, size: int, a: int = 3):
    """Row weights of pixel coordinates ``x`` (zeros padding, align_corners=True: x = (g + 1) (size - 1) / 2)."""
    grid = np.zeros((1, 1, len(x), 2))
    grid[0, 0, :, 0] = 2 * x / (size - 1) - 1
    n = len(x)
    buf = np.empty((6, n))
    first = np.empty(n, np.int64)
    state = np.empty(n, np.int64)
    w = np.empty((2 * a, n))
    dw = np.empty((2 * a, n))
    _row_axis(grid, 0, 0, 0, size, a, 0, True, _tables(a), buf, first, state, w, dw, True)
    return w, dw, first, state


def test_row_weights_are_normalised_lanczos():
    x = np.array([10.0, 10.3, 10.5, 10.99995, 11.00003, 12.7])  # includes the exact-formula path near integers
    w, _, first, state = _weights(x, 40)
    assert (state == 2).all()
    np.testing.assert_allclose(w.sum(0), 1.0, atol=1e-12)
    for i, xi in enumerate(x):
        taps = first[i] + np.arange(6)
        lk = lanczos_kernel(torch.tensor(xi - taps, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(w[:, i], lk / lk.sum(), atol=1e-12)


def test_row_weight_derivatives_match_finite_differences():
    x = np.array([5.2, 7.65, 9.00002, 3.99999])
    eps = 1e-6
    _, dw, _, _ = _weights(x, 20)
    w_hi, _, _, _ = _weights(x + eps, 20)
    w_lo, _, _, _ = _weights(x - eps, 20)
    np.testing.assert_allclose(dw, (w_hi - w_lo) / (2 * eps), atol=1e-6)


def test_padding_index():
    assert [_index(i, 5, 0, False) for i in (-1, 0, 4, 5)] == [-1, 0, 4, -1]  # zeros
    assert [_index(i, 5, 1, False) for i in (-2, 6)] == [0, 4]  # border
    assert [_index(i, 5, 2, False) for i in (-1, -2, 5, 6)] == [0, 1, 4, 3]  # reflection about -0.5 / 4.5
    assert [_index(i, 5, 2, True) for i in (-1, -2, 5, 6)] == [1, 2, 3, 2]  # reflection about 0 / 4
