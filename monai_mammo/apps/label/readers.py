"""NIfTI and NRRD images (what 3D Slicer's MONAI Label module uploads) behind :class:`MammoReader`'s contract.

3D Slicer sends a 2D image as a one-slice volume: NIfTI (``.nii``, ``.nii.gz``) read here with nibabel, NRRD
(``.nrrd``, ``.nhdr``) with ITK. The array comes out as :class:`~monai_mammo.data.MammoReader` gives DICOM:
float32 ``(H, W)`` = (rows, columns), the same metadata keys (:class:`~monai_mammo.utils.MammoKeys`) with the
spacing as (row, column) mm. Both formats store the column index fastest (NIfTI ``i``, ITK's ``x``), so
nibabel's ``(i, j)`` array is transposed and ITK's ``(y, x)`` array is taken as it is.

:class:`MammoSlicerReader` is a ``MammoReader`` that reads these too; the app puts it into the bundles'
``LoadMammogramd`` so that their preprocessing reads every file the datastore holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from monai.utils import optional_import

from monai_mammo.data import MammoImageError, MammoReader, parse_laterality_view
from monai_mammo.utils import MammoKeys

nib, _has_nib = optional_import("nibabel")
itk, _has_itk = optional_import("itk")

__all__ = ["NIFTI_SUFFIXES", "NRRD_SUFFIXES", "MammoSlicerReader", "read_volume_slice", "use_slicer_reader"]

NIFTI_SUFFIXES = (".nii", ".nii.gz")
NRRD_SUFFIXES = (".nrrd", ".nhdr")


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


def read_volume_slice(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a one-slice NIfTI (nibabel) or NRRD (ITK) as ``(rows, columns)`` and MammoReader-style metadata.

    Raises:
        MammoImageError: not a NIfTI / NRRD file, unreadable, or more than one slice.
        OptionalImportError: nibabel or ITK is missing (``pip install 'monai-mammo[label]'``).
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix in NIFTI_SUFFIXES:
        if not _has_nib:
            raise MammoImageError(f"{path}: reading NIfTI needs nibabel (pip install 'monai-mammo[label]').")
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
            raise MammoImageError(f"{path}: reading NRRD needs ITK (pip install 'monai-mammo[label]').")
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
        MammoKeys.MODALITY: "UNKNOWN",
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


class MammoSlicerReader(MammoReader):
    """:class:`~monai_mammo.data.MammoReader` that also reads one-slice NIfTI and NRRD (see the module).

    Takes :class:`MammoReader`'s arguments; ``modality`` is recorded for NIfTI / NRRD files too.
    """

    def verify_suffix(self, filename) -> bool:
        names = [Path(f) for f in (filename if isinstance(filename, (list, tuple)) else [filename])]
        if all(_suffix(p) in NIFTI_SUFFIXES + NRRD_SUFFIXES for p in names):
            return True
        return super().verify_suffix(filename)

    def load(self, source):
        if not isinstance(source, (str, Path)) or _suffix(Path(source)) not in NIFTI_SUFFIXES + NRRD_SUFFIXES:
            return super().load(source)
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file.")
        arr, meta = read_volume_slice(path)
        meta[MammoKeys.MODALITY] = self.modality
        return self._finish(arr, meta)


def use_slicer_reader(transform: Any) -> int:
    """Give every ``LoadMammogram(d)`` inside ``transform`` (a Compose or a transform) a :class:`MammoSlicerReader`.

    The new reader keeps the old one's settings. Returns how many loaders were changed.
    """
    from monai.transforms import Compose

    from monai_mammo.transforms import LoadMammogram, LoadMammogramd

    changed = 0
    items = transform.transforms if isinstance(transform, Compose) else [transform]
    for t in items:
        if isinstance(t, Compose):
            changed += use_slicer_reader(t)
            continue
        loader = t._loader if isinstance(t, LoadMammogramd) else t if isinstance(t, LoadMammogram) else None
        if loader is None:
            continue
        reader = MammoSlicerReader.__new__(MammoSlicerReader)
        reader.__dict__.update(loader.readers[0].__dict__)
        setattr(loader, "reader", reader)  # noqa: B010 (LoadMammogram's attribute, not LoadImage's)
        loader.readers = [reader]
        changed += 1
    return changed
