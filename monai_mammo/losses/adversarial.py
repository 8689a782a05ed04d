# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Adversarial losses of SRGAN (Ledig et al., 2017) and the SRGAN generator loss (content + beta * adversarial).

The discriminator returns logits; the losses apply the sigmoid inside ``binary_cross_entropy_with_logits``,
which is numerically stable (no ``log(0)``), instead of a sigmoid layer plus BCE.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from monai.utils import LossReduction, look_up_option
from torch.nn.modules.loss import _Loss

from monai_mammo.losses.pixel import PixelLoss

__all__ = ["DiscriminatorAdversarialLoss", "GeneratorAdversarialLoss", "SRGANGeneratorLoss"]


class GeneratorAdversarialLoss(_Loss):
    """Generator's adversarial loss ``-log D(G(x))`` (the non-saturating form of Ledig et al., 2017).

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Example:
        >>> GeneratorAdversarialLoss()(torch.zeros(4, 1))  # D unsure: log 2
        tensor(0.6931)
    """

    def __init__(self, reduction: str = LossReduction.MEAN) -> None:
        super().__init__(reduction=str(look_up_option(reduction, LossReduction)))

    def forward(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """Loss of the discriminator's logits on generated images; low when they are judged real."""
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits), reduction=self.reduction)


class DiscriminatorAdversarialLoss(_Loss):
    """Discriminator's loss ``-log D(y) - log(1 - D(G(x)))`` (Ledig et al., 2017): the sum of the two terms.

    Args:
        real_label: target of real images; below 1 (e.g. 0.9) is one-sided label smoothing.
        fake_label: target of generated images.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``"none"`` needs real and fake logits of one shape).

    Example:
        >>> DiscriminatorAdversarialLoss()(torch.zeros(4, 1), torch.zeros(4, 1))
        tensor(1.3863)
    """

    def __init__(self, real_label: float = 1.0, fake_label: float = 0.0, reduction: str = LossReduction.MEAN) -> None:
        super().__init__(reduction=str(look_up_option(reduction, LossReduction)))
        for arg, value in (("real_label", real_label), ("fake_label", fake_label)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"DiscriminatorAdversarialLoss: {arg} must lie in [0, 1], got {value}.")
        self.real_label = float(real_label)
        self.fake_label = float(fake_label)

    def forward(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """Loss of the discriminator's logits on real and on generated (detached) images."""
        real = F.binary_cross_entropy_with_logits(
            real_logits, torch.full_like(real_logits, self.real_label), reduction=self.reduction
        )
        fake = F.binary_cross_entropy_with_logits(
            fake_logits, torch.full_like(fake_logits, self.fake_label), reduction=self.reduction
        )
        return real + fake


class SRGANGeneratorLoss(nn.Module):
    """SRGAN's perceptual loss for the generator: ``content(sr, hr) + beta * adversarial(D(sr))`` (Ledig et al.).

    Args:
        content_loss: the content term, e.g. :class:`~monai_mammo.losses.VGG19ContentLoss` (the paper's) or
            :class:`~monai_mammo.losses.PixelLoss`; None: the pixel MSE (the "SRGAN-MSE" variant).
        adversarial_weight: ``beta``, 1e-3 in Ledig et al. and Swapna & Vijaya Kumar (2026).

    Example:
        >>> loss = SRGANGeneratorLoss()
        >>> loss(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8), torch.zeros(1, 1))
        tensor(0.0007)
    """

    def __init__(self, content_loss: nn.Module | None = None, adversarial_weight: float = 1e-3) -> None:
        super().__init__()
        if adversarial_weight < 0:
            raise ValueError(f"SRGANGeneratorLoss: adversarial_weight must be >= 0, got {adversarial_weight}.")
        self.content_loss = PixelLoss() if content_loss is None else content_loss
        self.adversarial_loss = GeneratorAdversarialLoss()
        self.adversarial_weight = float(adversarial_weight)

    def components(self, sr: torch.Tensor, hr: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
        """The terms, for logging: ``{"content", "adversarial", "total"}`` (``adversarial`` unweighted)."""
        content = self.content_loss(sr, hr)
        adversarial = self.adversarial_loss(fake_logits)
        return {
            "content": content,
            "adversarial": adversarial,
            "total": content + self.adversarial_weight * adversarial,
        }

    def forward(self, sr: torch.Tensor, hr: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """Total loss of the super-resolved ``sr`` against ``hr``, with the discriminator's logits on ``sr``."""
        return self.components(sr, hr, fake_logits)["total"]
