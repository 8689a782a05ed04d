"""ModalitySumLoss: the sum of the per-modality losses."""

from __future__ import annotations

import torch

from monai_mammo.losses import ModalitySumLoss


def test_modality_sum_loss_is_the_sum_of_per_modality_means():
    pred, target = torch.randn(5, 3), torch.tensor([0, 1, 2, 0, 1])
    modality = torch.tensor([0, 0, 1, 1, 1])
    total, parts = ModalitySumLoss()(pred, target, modality)
    ce = torch.nn.functional.cross_entropy
    torch.testing.assert_close(parts["MG"], ce(pred[:2], target[:2]))
    torch.testing.assert_close(total, ce(pred[:2], target[:2]) + ce(pred[2:], target[2:]))
