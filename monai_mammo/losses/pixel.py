# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Pixel-wise loss (MSE or L1), with an optional mask; the loss of SR generator pretraining (SRResNet)."""

from __future__ import annotations

import torch
from monai.utils import LossReduction, StrEnum, look_up_option
from torch.nn.modules.loss import _Loss

__all__ = ["PixelCriterion", "PixelLoss"]


class PixelCriterion(StrEnum):
    """Pixel-wise error of :class:`PixelLoss`."""

    MSE = "mse"
    L1 = "l1"


class PixelLoss(_Loss):
    """Mean squared (or absolute) error between two images, optionally only where a mask is non-zero.

    Ledig et al. (2017) pretrain the SRGAN generator with the pixel MSE ("SRResNet"); Swapna & Vijaya Kumar
    (2026) do the same before the adversarial phase.

    Args:
        criterion: ``"mse"`` or ``"l1"`` (see :class:`PixelCriterion`).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. With a mask, ``"mean"`` averages over the masked
            elements only (0 when the mask is empty) and ``"none"`` returns the masked error map.

    Example:
        >>> loss = PixelLoss()
        >>> loss(torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 4, 4))
        tensor(1.)
    """

    def __init__(self, criterion: str = PixelCriterion.MSE, reduction: str = LossReduction.MEAN) -> None:
        super().__init__(reduction=str(look_up_option(reduction, LossReduction)))
        self.criterion = PixelCriterion(look_up_option(criterion, PixelCriterion))

    def forward(self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Loss between ``input`` and ``target`` (same shape); ``mask`` broadcastable to it (e.g. (N, 1, H, W)).

        Raises:
            ValueError: shapes that differ, or a mask that does not broadcast to them.
        """
        if input.shape != target.shape:
            raise ValueError(f"PixelLoss: input shape {tuple(input.shape)} != target shape {tuple(target.shape)}.")
        diff = input - target
        err = diff * diff if self.criterion == PixelCriterion.MSE else diff.abs()
        if mask is None:
            if self.reduction == LossReduction.MEAN:
                return err.mean()
            return err.sum() if self.reduction == LossReduction.SUM else err
        try:
            weight = torch.broadcast_to(mask.to(err.dtype), err.shape)
        except RuntimeError as e:
            raise ValueError(
                f"PixelLoss: mask shape {tuple(mask.shape)} does not broadcast to input shape {tuple(err.shape)}."
            ) from e
        err = err * weight
        if self.reduction == LossReduction.MEAN:
            return err.sum() / weight.sum().clamp_min(torch.finfo(err.dtype).tiny)
        return err.sum() if self.reduction == LossReduction.SUM else err
