"""Reading breast images, dataset builders, splits and synthetic data."""

from __future__ import annotations

# Each block below belongs to one module; add exports with a small edit to your own block.
# --- reader ---
from .dicom import MammoImageError as MammoImageError
from .dicom import VOIFunction as VOIFunction
from .dicom import WindowChoice as WindowChoice
from .dicom import dicom_metadata as dicom_metadata
from .dicom import dicom_to_array as dicom_to_array
from .dicom import parse_laterality_view as parse_laterality_view
from .reader import CheckMode as CheckMode
from .reader import ColorMode as ColorMode
from .reader import MammoReader as MammoReader
from .volume import is_volume_file as is_volume_file
from .volume import read_volume_slice as read_volume_slice

# --- datasets ---
# isort: split
from .datalist import DATALIST_NAME as DATALIST_NAME
from .datalist import DatalistError as DatalistError
from .datalist import batchable as batchable
from .datalist import check_num_classes as check_num_classes
from .datalist import read_datalist as read_datalist
from .datalist import require_keys as require_keys
from .datalist import select_fold as select_fold
from .datalist import write_datalist as write_datalist
from .datasets import BadInputWarning as BadInputWarning
from .datasets import BusiDuplicates as BusiDuplicates
from .datasets import OnError as OnError
from .datasets import breastmnist_items as breastmnist_items
from .datasets import busi_items as busi_items
from .datasets import cbis_ddsm_items as cbis_ddsm_items
from .datasets import csv_items as csv_items
from .datasets import folder_items as folder_items
from .datasets import mias_items as mias_items
from .datasets import mias_woman_id as mias_woman_id
from .datasets import parse_mias_info as parse_mias_info

# --- splits ---
from .splits import check_no_patient_leakage as check_no_patient_leakage
from .splits import grouped_kfold as grouped_kfold
from .splits import split_datalist as split_datalist

# --- synthetic ---
from .synthetic import SyntheticBreastDataset as SyntheticBreastDataset
from .synthetic import SyntheticImage as SyntheticImage
from .synthetic import SyntheticMammograms as SyntheticMammograms
from .synthetic import SyntheticUltrasounds as SyntheticUltrasounds
from .synthetic import make_synthetic_dataset as make_synthetic_dataset

# --- where a workflow's data comes from (the synthetic default when a folder is empty) ---
from .dataset_folder import SYNTHETIC_DEFAULTS as SYNTHETIC_DEFAULTS
from .dataset_folder import bundle_datalists as bundle_datalists
from .dataset_folder import ensure_dataset as ensure_dataset

# --- samplers, class weights and item subsets ---
from .samplers import Imbalance as Imbalance
from .samplers import ModalityBalancedSampler as ModalityBalancedSampler
from .samplers import class_counts as class_counts
from .samplers import class_weights as class_weights
from .samplers import imbalance_loss_weights as imbalance_loss_weights
from .samplers import imbalance_sampler as imbalance_sampler
from .subsets import limited_label_subset as limited_label_subset
from .subsets import modality_items as modality_items
