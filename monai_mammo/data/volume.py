"""One-slice NIfTI and NRRD images (what 3D Slicer's MONAI Label module uploads) under the reader's contract.

3D Slicer sends a 2D image as a one-slice volume: NIfTI (``.nii``, ``.nii.gz``) read here with nibabel, NRRD
(``.nrrd``, ``.nhdr``) with ITK. The array comes out as :class:`~monai_mammo.data.MammoReader` gives DICOM:
``(H, W)`` = (rows, columns), the same metadata keys (:class:`~monai_mammo.utils.MammoKeys`) with the
spacing as (row, column) mm. Both formats store the column index fastest (NIfTI ``i``, ITK's ``x``), so
nibabel's ``(i, j)`` array is transposed and ITK's ``(y, x)`` array is taken as it is. MONAI's own
``NibabelReader`` / ``ITKReader`` give ``(i, j)`` / ``(x, y)`` order instead, which is why the reader does not
hand these files to them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from monai.utils import optional_import

from monai_mammo.data.dicom import MammoImageError, parse_laterality_view
from monai_mammo.utils import MammoKeys

nib, _has_nib = optional_import("nibabel")
itk, _has_itk = optional_import("itk")

__all__ = ["NIFTI_SUFFIXES", "NRRD_SUFFIXES", "VOLUME_SUFFIXES", "is_volume_file", "read_volume_slice"]

NIFTI_SUFFIXES = (".nii", ".nii.gz")
NRRD_SUFFIXES = (".nrrd", ".nhdr")
VOLUME_SUFFIXES = NIFTI_SUFFIXES + NRRD_SUFFIXES
"""Suffixes of the one-slice volumes :class:`~monai_mammo.data.MammoReader` reads through nibabel or ITK."""


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _one_slice(arr: np.ndarray, path: Path) -> np.ndarray:
    """A 2D array from a volume with one slice (any axis of size 1 beyond the first two is dropped)."""
    arr = np.asarray(arr)
    while arr.ndim > 2 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise MammoImageError(f"{path}: image of shape {arr.shape}; expected one 2D image (a volume of one slice).")
    return arr


def is_volume_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named like a NIfTI or NRRD file."""
    return _suffix(Path(path)) in VOLUME_SUFFIXES


def read_volume_slice(path: str | os.PathLike, modality: str = "UNKNOWN") -> tuple[np.ndarray, dict[str, Any]]:
    """Read a one-slice NIfTI (nibabel) or NRRD (ITK) as ``(rows, columns)`` and MammoReader-style metadata.

    Args:
        path: the ``.nii``, ``.nii.gz``, ``.nrrd`` or ``.nhdr`` file.
        modality: the modality to record (the files do not say).

    Raises:
        MammoImageError: not a NIfTI / NRRD file, unreadable, or more than one slice.
        OptionalImportError: nibabel or ITK is missing (``pip install 'monai-mammo[volumes]'``).
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix in NIFTI_SUFFIXES:
        if not _has_nib:
            raise MammoImageError(f"{path}: reading NIfTI needs nibabel (pip install 'monai-mammo[volumes]').")
        try:
            img = nib.load(str(path))
            data = np.asanyarray(img.dataobj)
        except Exception as e:
            raise MammoImageError(f"{path}: cannot read the NIfTI ({type(e).__name__}: {e}).") from e
        arr = _one_slice(data, path).T  # (i, j) = (column, row) -> (row, column)
        zooms = [float(z) for z in img.header.get_zooms()[:2]]
        spacing = np.array([zooms[1], zooms[0]]) if len(zooms) == 2 else np.ones(2)
        fmt = "NIFTI"
    elif suffix in NRRD_SUFFIXES:
        if not _has_itk:
            raise MammoImageError(f"{path}: reading NRRD needs ITK (pip install 'monai-mammo[volumes]').")
        try:
            img = itk.imread(str(path))
            data = itk.array_view_from_image(img).copy()  # (..., y, x)
        except Exception as e:
            raise MammoImageError(f"{path}: cannot read the NRRD ({type(e).__name__}: {e}).") from e
        while data.ndim > 2 and data.shape[0] == 1:
            data = data[0]
        arr = _one_slice(data, path)
        sx, sy = (float(s) for s in tuple(img.GetSpacing())[:2])
        spacing = np.array([sy, sx])
        fmt = "NRRD"
    else:
        raise MammoImageError(f"{path}: not a NIfTI or NRRD file; expected {NIFTI_SUFFIXES + NRRD_SUFFIXES}.")
    if arr.dtype.kind not in "uif":
        raise MammoImageError(f"{path}: pixel type {arr.dtype}; expected integers or floats.")
    finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    value_range = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    laterality, view = parse_laterality_view(path.name)
    meta = {
        MammoKeys.MODALITY: modality,
        MammoKeys.PATIENT_ID: "",
        MammoKeys.STUDY_UID: "",
        MammoKeys.SERIES_UID: "",
        MammoKeys.SOP_UID: "",
        MammoKeys.LATERALITY: str(laterality),
        MammoKeys.VIEW: str(view),
        MammoKeys.SPACING: spacing,
        MammoKeys.SPACING_SOURCE: "PixelSpacing" if not np.allclose(spacing, 1.0) else "none",
        MammoKeys.PHOTOMETRIC: "MONOCHROME2",
        MammoKeys.BITS_STORED: int(arr.dtype.itemsize * 8),
        MammoKeys.INVERTED: False,
        MammoKeys.WINDOW: np.array([np.nan, np.nan]),
        MammoKeys.WINDOW_FUNCTION: "NONE",
        MammoKeys.VALUE_RANGE: np.asarray(value_range, dtype=np.float64),
        MammoKeys.FORMAT: fmt,
        MammoKeys.FILENAME: str(path),
    }
    return arr, {str(k): v for k, v in meta.items()}
