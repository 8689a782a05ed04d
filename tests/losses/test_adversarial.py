"""Adversarial losses (BCE with logits) and the SRGAN generator loss."""

from __future__ import annotations

import math

import pytest
import torch

from monai_mammo.losses import (
    DiscriminatorAdversarialLoss,
    GeneratorAdversarialLoss,
    PixelLoss,
    SRGANGeneratorLoss,
)


def test_generator_loss_is_minus_log_d():
    logits = torch.tensor([[0.0], [2.0]])
    expected = -torch.log(torch.sigmoid(logits)).mean()
    torch.testing.assert_close(GeneratorAdversarialLoss()(logits), expected)


def test_generator_loss_pushes_towards_real():
    logits = torch.zeros(3, 1, requires_grad=True)
    GeneratorAdversarialLoss()(logits).backward()
    assert (logits.grad < 0).all()  # increasing the logit (more "real") lowers the loss


def test_discriminator_loss():
    real, fake = torch.tensor([[1.0]]), torch.tensor([[-0.5]])
    expected = -math.log(torch.sigmoid(real).item()) - math.log(1 - torch.sigmoid(fake).item())
    assert DiscriminatorAdversarialLoss()(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_discriminator_label_smoothing():
    real = torch.tensor([[0.0]])
    smooth = DiscriminatorAdversarialLoss(real_label=0.9)(real, torch.full((1, 1), -20.0))
    assert smooth.item() == pytest.approx(math.log(2), rel=1e-5)  # BCE(0.5, 0.9) = log 2 at logit 0
    with pytest.raises(ValueError, match="real_label"):
        DiscriminatorAdversarialLoss(real_label=1.5)


def test_srgan_generator_loss():
    sr, hr, logits = torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), torch.randn(2, 1)
    loss = SRGANGeneratorLoss()
    parts = loss.components(sr, hr, logits)
    torch.testing.assert_close(parts["content"], PixelLoss()(sr, hr))
    torch.testing.assert_close(parts["adversarial"], GeneratorAdversarialLoss()(logits))
    torch.testing.assert_close(loss(sr, hr, logits), parts["content"] + 1e-3 * parts["adversarial"])


def test_srgan_generator_loss_custom_content_and_beta():
    loss = SRGANGeneratorLoss(content_loss=PixelLoss("l1"), adversarial_weight=0.5)
    sr, hr = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    assert loss(sr, hr, torch.zeros(1, 1)).item() == pytest.approx(1.0 + 0.5 * math.log(2))
    with pytest.raises(ValueError, match="adversarial_weight"):
        SRGANGeneratorLoss(adversarial_weight=-1)
