"""Learning-rate schedules (MONAI core's ``optimizers``)."""

from __future__ import annotations

from .lr_scheduler import InverseTimeDecay as InverseTimeDecay
from .lr_scheduler import inverse_time_scheduler as inverse_time_scheduler
