"""Learning-rate schedules: the inverse-time decay ``lr = lr0 / (1 + beta * epoch)`` (Inbaraj et al., 2025)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import torch
from monai.utils import IgniteInfo, min_version, optional_import

if TYPE_CHECKING:
    from ignite.engine import Engine, Events
else:
    Engine, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Engine")
    Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")
Image, _ = optional_import("PIL.Image")

logger = logging.getLogger(__name__)


class InverseTimeDecay:
    """``lr = lr0 / (1 + beta * epoch)`` as a picklable ``LambdaLR`` factor (so schedulers checkpoint and resume)."""

    def __init__(self, beta: float) -> None:
        if beta < 0:
            raise ValueError(f"InverseTimeDecay: beta must be >= 0, got {beta}.")
        self.beta = float(beta)

    def __call__(self, epoch: int) -> float:
        return 1.0 / (1.0 + self.beta * epoch)


def inverse_time_scheduler(optimizer: torch.optim.Optimizer, beta: float) -> torch.optim.lr_scheduler.LambdaLR:
    """``LambdaLR`` with :class:`InverseTimeDecay`; step it once per epoch (MONAI ``LrScheduleHandler``)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, InverseTimeDecay(beta))
