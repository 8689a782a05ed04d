"""Ignite handlers: atomic checkpoints, resume with the random states, prediction and SR image writers."""

from __future__ import annotations

from .checkpoint_saver import AtomicCheckpointSaver as AtomicCheckpointSaver
from .checkpoint_saver import AtomicDiskSaver as AtomicDiskSaver
from .prediction_writer import PredictionWriter as PredictionWriter
from .prediction_writer import prediction_records as prediction_records
from .random_state import RandomStates as RandomStates
from .resume import KeyMetricState as KeyMetricState
from .resume import ResumeFromCheckpoint as ResumeFromCheckpoint
from .resume import latest_checkpoint as latest_checkpoint
from .sr_image_writer import SRImageFormat as SRImageFormat
from .sr_image_writer import SRImageWriter as SRImageWriter
