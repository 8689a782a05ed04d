"""Synthetic mammograms and breast ultrasound images with the three classes, and a writer for datasets of them."""

from __future__ import annotations

from .common import SyntheticImage, match_histogram, power_law_noise
from .dataset import SyntheticBreastDataset
from .mammography import SyntheticMammograms
from .ultrasound import SyntheticUltrasounds
from .writer import ImageFormat, SyntheticModality, make_synthetic_dataset, write_dicom

__all__ = [
    "ImageFormat",
    "SyntheticBreastDataset",
    "SyntheticImage",
    "SyntheticMammograms",
    "SyntheticModality",
    "SyntheticUltrasounds",
    "make_synthetic_dataset",
    "match_histogram",
    "power_law_noise",
    "write_dicom",
]
