"""Ignite trainers, evaluators and prepare-batch classes built on MONAI engines (MONAI core's ``engines``)."""

from __future__ import annotations

# --- super-resolution ---
from .sr_evaluator import MeanPerImage as MeanPerImage
from .sr_evaluator import SREvaluator as SREvaluator
from .sr_evaluator import default_sr_metrics as default_sr_metrics
from .sr_trainer import SRGANTrainer as SRGANTrainer
from .utils import SRKeys as SRKeys
from .utils import SRPhase as SRPhase
from .utils import SRPrepareBatch as SRPrepareBatch

# --- cross-dimensional transfer ---
from .cross_training import CROSS_MODALITIES as CROSS_MODALITIES
from .cross_training import CrossModalTrainer as CrossModalTrainer
from .cross_training import CrossTransferPhase as CrossTransferPhase
from .cross_training import ModalityPrepareBatch as ModalityPrepareBatch
from .cross_transfer import CrossModalTransfer as CrossModalTransfer

# --- mixed precision on the CPU ---
from .inferer import AutocastInferer as AutocastInferer
from .inferer import SelfEnsembleInferer as SelfEnsembleInferer
from .inferer import cpu_supports_bfloat16 as cpu_supports_bfloat16
