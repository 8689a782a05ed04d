"""Small helpers shared by every sub-package: enums, atomic file writes, data locations."""

from __future__ import annotations

from .enums import CROSS_MODALITIES, BreastClass, Laterality, MammoKeys, Modality, View
from .io import atomic_write, atomic_write_bytes, atomic_write_text

__all__ = [
    "CROSS_MODALITIES",
    "BreastClass",
    "Laterality",
    "MammoKeys",
    "Modality",
    "View",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
]
