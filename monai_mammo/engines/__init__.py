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

# --- classification (bundle data, classification workflow, inference writers) ---
from .bundle_data import DATALIST_NAME as DATALIST_NAME
from .bundle_data import SYNTHETIC_DEFAULTS as SYNTHETIC_DEFAULTS
from .bundle_data import bundle_datalists as bundle_datalists
from .bundle_data import check_num_classes as check_num_classes
from .bundle_data import ensure_dataset as ensure_dataset
from .bundle_data import load_datalist as load_datalist
from .bundle_data import select_fold as select_fold
from .classification import Imbalance as Imbalance
from .classification import class_counts as class_counts
from .classification import class_weights as class_weights
from .classification import cross_validate as cross_validate
from .classification import imbalance_loss_weights as imbalance_loss_weights
from .classification import imbalance_sampler as imbalance_sampler
from .classification import report_test_metrics as report_test_metrics
from .inference import PredictionWriter as PredictionWriter
from .inference import prediction_records as prediction_records
from .resume import KeyMetricState as KeyMetricState
from .resume import ResumeFromCheckpoint as ResumeFromCheckpoint
from .resume import latest_checkpoint as latest_checkpoint

# --- sr bundle ---
from .sr_bundle import BicubicResidualSR as BicubicResidualSR
from .sr_bundle import ContentLoss as ContentLoss
from .sr_bundle import SRImageFormat as SRImageFormat
from .sr_bundle import SRImageWriter as SRImageWriter
from .sr_bundle import check_sr_settings as check_sr_settings
from .sr_bundle import shave_border as shave_border
from .sr_bundle import sr_content_loss as sr_content_loss
from .sr_bundle import sr_inference_files as sr_inference_files

# --- cross transfer ---
from .cross_transfer import BatchNormMode as BatchNormMode
from .cross_training import CrossModalTrainer as CrossModalTrainer
from .cross_transfer import CrossModalTransfer as CrossModalTransfer
from .cross_training import CrossTransferPhase as CrossTransferPhase
from .cross_training import InverseTimeDecay as InverseTimeDecay
from .cross_training import ModalityBalancedSampler as ModalityBalancedSampler
from .cross_training import ModalityPrepareBatch as ModalityPrepareBatch
from .cross_training import ModalitySumLoss as ModalitySumLoss
from .cross_transfer import interpolate_weights as interpolate_weights
from .cross_training import inverse_time_scheduler as inverse_time_scheduler
from .cross_training import limited_label_subset as limited_label_subset
from .cross_transfer import load_network_state as load_network_state
from .cross_training import modality_items as modality_items
from .cross_transfer import recompute_batch_norm as recompute_batch_norm
from .cross_transfer import save_network_state as save_network_state
