"""PixelLoss: MSE / L1, reductions, mask."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.losses import PixelLoss


@pytest.mark.parametrize(("criterion", "expected"), [("mse", 2.5), ("l1", 1.5)])
def test_values(criterion, expected):
    x = torch.tensor([[[[1.0, 2.0]]]])
    assert PixelLoss(criterion)(x, torch.zeros_like(x)).item() == pytest.approx(expected)


def test_matches_torch_mse():
    x, y = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(PixelLoss()(x, y), torch.nn.functional.mse_loss(x, y))


def test_mask_averages_over_masked_pixels():
    x = torch.tensor([[[[1.0, 3.0], [5.0, 7.0]]]])
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    assert PixelLoss("l1")(x, torch.zeros_like(x), mask).item() == pytest.approx(4.0)
    assert PixelLoss("l1", reduction="sum")(x, torch.zeros_like(x), mask).item() == pytest.approx(8.0)
    assert PixelLoss()(x, x + 1, torch.zeros_like(mask)).item() == 0.0  # empty mask


def test_mask_broadcasts_over_channels():
    x = torch.ones(1, 3, 2, 2)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    out = PixelLoss(reduction="none")(x, torch.zeros_like(x), mask)
    assert out.shape == (1, 3, 2, 2) and out.sum().item() == 3.0


def test_bad_input():
    with pytest.raises(ValueError, match="input shape"):
        PixelLoss()(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 3))
    with pytest.raises(ValueError, match="mask shape"):
        PixelLoss()(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="huber"):
        PixelLoss("huber")
