"""Tests of monai_mammo.engines.sr_evaluator: masked PSNR/SSIM of the model and of bicubic."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from monai_mammo.engines import SREvaluator
from monai_mammo.metrics import bicubic_upsample, masked_psnr


class Bicubic(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)


class Oracle(torch.nn.Module):
    """Returns a stored HR image: a perfect model inside the mask, noise outside."""

    def __init__(self, hr: torch.Tensor, mask: torch.Tensor) -> None:
        super().__init__()
        self.out = hr * mask + (1 - mask) * torch.rand_like(hr)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out


def data(with_mask: bool = True) -> tuple[list[dict], torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(2, 1, 32, 32, generator=g)
    mask = torch.zeros_like(hr)
    mask[:, :, 8:24, 8:24] = 1
    batch = {"lr": F.avg_pool2d(hr, 2), "image": hr}  # "image" is a fallback HR key
    if with_mask:
        batch["mask"] = mask
    return [batch], hr, mask


def test_bicubic_network_has_zero_gain():
    loader, hr, mask = data()
    evaluator = SREvaluator("cpu", loader, Bicubic())
    evaluator.run()
    m = evaluator.state.metrics
    assert set(m) == {"psnr", "ssim", "psnr_bicubic", "ssim_bicubic", "psnr_gain_db", "ssim_gain"}
    assert m["psnr"] == pytest.approx(m["psnr_bicubic"], abs=1e-4) and m["psnr_gain_db"] == pytest.approx(0, abs=1e-4)
    expected = masked_psnr(bicubic_upsample(loader[0]["lr"], 2, value_range=(0, 1)), hr, mask, data_range=1.0)
    assert m["psnr_bicubic"] == pytest.approx(expected.mean().item(), rel=1e-5)


def test_metrics_are_computed_inside_the_mask():
    loader, hr, mask = data()
    evaluator = SREvaluator("cpu", loader, Oracle(hr, mask))
    evaluator.run()
    m = evaluator.state.metrics
    assert m["psnr"] == float("inf") and m["psnr_gain_db"] == float("inf")
    # SSIM windows centred near the mask's edge also see the noise outside: high, but below 1
    assert m["ssim_bicubic"] < m["ssim"] < 1 and m["ssim_gain"] > 0
    assert evaluator.state.output["psnr"].shape == (2,)


def test_without_mask_the_whole_image_counts():
    loader, hr, mask = data(with_mask=False)
    evaluator = SREvaluator("cpu", loader, Oracle(hr, mask))
    evaluator.run()
    assert evaluator.state.metrics["psnr"] < 20


def test_wrong_output_size_is_reported():
    loader, _, _ = data()
    with pytest.raises(ValueError, match="does not match the HR"):
        SREvaluator("cpu", loader, torch.nn.Identity()).run()


def test_bad_value_range():
    with pytest.raises(ValueError, match="value_range"):
        SREvaluator("cpu", [], Bicubic(), value_range=(1.0, 0.0))
