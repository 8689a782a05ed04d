"""Ignite workflows built on MONAI engines."""

from __future__ import annotations

# --- sr (super-resolution engines, checkpoints) ---
from .checkpoint import AtomicCheckpointSaver as AtomicCheckpointSaver
from .checkpoint import AtomicDiskSaver as AtomicDiskSaver
from .sr_evaluator import MeanPerImage as MeanPerImage
from .sr_evaluator import SREvaluator as SREvaluator
from .sr_evaluator import default_sr_metrics as default_sr_metrics
from .sr_trainer import SRGANTrainer as SRGANTrainer
from .utils import SRKeys as SRKeys
from .utils import SRPhase as SRPhase
from .utils import SRPrepareBatch as SRPrepareBatch
