"""Small helpers shared by every sub-package: enums, atomic file writes, data locations."""

from __future__ import annotations

from .enums import BreastClass, Laterality, MammoKeys, Modality, View
from .io import atomic_write, atomic_write_bytes, atomic_write_text

__all__ = [
    "BreastClass",
    "Laterality",
    "MammoKeys",
    "Modality",
    "View",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
]
