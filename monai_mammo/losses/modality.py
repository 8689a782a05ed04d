"""The total loss of cross-dimensional pretraining: the sum of the per-modality losses (Inbaraj et al., 2025)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from monai_mammo.utils import CROSS_MODALITIES

__all__ = ["ModalitySumLoss"]


class ModalitySumLoss(nn.Module):
    """Total loss = sum over the modalities in the batch of the loss within that modality (Inbaraj et al., 2025).

    Args:
        loss: per-modality loss ``loss(pred, target)`` with mean reduction (default cross-entropy).
        modalities: names, for the per-modality values returned.
    """

    def __init__(self, loss: nn.Module | None = None, modalities: Sequence[str] = CROSS_MODALITIES) -> None:
        super().__init__()
        self.loss = loss if loss is not None else nn.CrossEntropyLoss()
        self.modalities = [str(m) for m in modalities]

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, modality: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The total and ``{modality name: its loss}``; columns of ``pred`` that are ``-inf`` padding are dropped."""
        parts: dict[str, torch.Tensor] = {}
        for i in torch.unique(modality).tolist():
            rows = modality == i
            p = pred[rows]
            p = p[:, torch.isfinite(p).all(0)]
            parts[self.modalities[int(i)]] = self.loss(p, target[rows])
        total = torch.stack(list(parts.values())).sum()
        return total, parts
