"""Learning-rate schedules: the inverse-time decay ``lr = lr0 / (1 + beta * epoch)`` (Inbaraj et al., 2025)."""

from __future__ import annotations

import torch

__all__ = ["InverseTimeDecay", "inverse_time_scheduler"]


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
