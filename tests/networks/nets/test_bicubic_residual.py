"""BicubicResidualSR: bicubic upsampling plus a learned residual."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from monai_mammo.networks.nets import BicubicResidualSR, SRGANGenerator


def _generator(scale: int) -> SRGANGenerator:
    return SRGANGenerator(scale_factor=scale, num_channels=8, num_res_blocks=1)


@pytest.mark.parametrize("scale", [2, 4])
def test_residual_starts_as_bicubic(scale: int) -> None:
    net = BicubicResidualSR(_generator(scale), scale).eval()
    lr = torch.rand(2, 1, 8, 8)
    expected = F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(lr), expected)


def test_residual_learns_beyond_bicubic() -> None:
    torch.manual_seed(0)
    net = BicubicResidualSR(_generator(2), 2)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    hr = torch.rand(4, 1, 16, 16)
    lr = F.avg_pool2d(hr, 2)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = F.mse_loss(net(lr), hr)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_no_residual_is_the_plain_generator() -> None:
    gen = _generator(2).eval()
    net = BicubicResidualSR(gen, 2, residual=False).eval()
    lr = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(net(lr), gen(lr))


def test_residual_scripts() -> None:
    net = BicubicResidualSR(_generator(2), 2).eval()
    lr = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(torch.jit.script(net)(lr), net(lr))
