"""Writing the SR image: NIfTI with nibabel, and a derived DICOM in the source's study.

The NIfTI stores the ``(rows, columns)`` array with the column index fastest, as DICOM and 3D Slicer do (data
``(columns, rows, 1)``), the affine flipping x and y from DICOM's LPS to NIfTI's RAS so that Slicer shows it
over the source image. The derived DICOM is a Secondary Capture of the same patient and study, with new series
and instance UIDs, ``ImageType`` DERIVED\\SECONDARY, the source in ``SourceImageSequence`` and
``ReferencedImageSequence``, and the SR pixel spacing; 16-bit unsigned pixels spanning the model's value range.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from monai.utils import optional_import
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

nib, _has_nib = optional_import("nibabel")

__all__ = ["SECONDARY_CAPTURE", "derived_sr_dicom", "write_nifti"]

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
_PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3
# patient and study attributes copied from the source, so that the derived image joins its study
_COPIED = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyDescription",
    "Modality",
    "BodyPartExamined",
    "ImageLaterality",
    "Laterality",
    "ViewPosition",
    "PatientOrientation",
)


def write_nifti(path: str | os.PathLike, array: np.ndarray, spacing: Sequence[float]) -> str:
    """Write a ``(rows, columns)`` image as a one-slice NIfTI; ``spacing`` is (row, column) in mm."""
    if not _has_nib:
        raise RuntimeError("writing NIfTI needs nibabel (pip install 'monai-mammo[label]').")
    row, col = (float(s) for s in spacing)
    affine = np.diag([-col, -row, 1.0, 1.0])
    data = np.ascontiguousarray(np.asarray(array, dtype=np.float32).T[:, :, None])
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))
    return str(path)


def derived_sr_dicom(
    source: str | os.PathLike,
    array: np.ndarray,
    spacing: Sequence[float],
    value_range: Sequence[float],
    scale: int,
    model: Mapping[str, Any],
    path: str | os.PathLike,
) -> Dataset:
    """Write the SR image ``array`` (rows, columns) as a DICOM derived from ``source``; returns the dataset.

    Args:
        source: the source DICOM file.
        array: the SR image, values in ``value_range``.
        spacing: its (row, column) pixel spacing in mm.
        value_range: the model's output range, mapped to 0..65535.
        scale: the SR factor (in ``DerivationDescription``).
        model: the model's file and version (in ``DerivationDescription``).
        path: the file to write.
    """
    src = pydicom.dcmread(str(source), stop_before_pixels=True)
    low, high = float(value_range[0]), float(value_range[1])
    pixels = np.clip((np.asarray(array, dtype=np.float64) - low) / max(high - low, 1e-12), 0.0, 1.0)
    pixels = np.round(pixels * 65535.0).astype(np.uint16)
    now = datetime.now()

    ds = Dataset()
    for keyword in _COPIED:
        if keyword in src:
            setattr(ds, keyword, src[keyword].value)
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = int(src.get("SeriesNumber") or 0) + 1000
    ds.InstanceNumber = 1
    ds.SeriesDescription = f"SR x{scale} of {src.get('SeriesDescription') or src.get('SOPInstanceUID')}"[:64]
    ds.ContentDate, ds.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.SeriesDate, ds.SeriesTime = ds.ContentDate, ds.ContentTime
    ds.ConversionType = "WSD"  # workstation
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.DerivationDescription = (
        f"SRGAN super-resolution x{scale} of the breast region (monai_mammo mammo_srgan, model {model.get('version')})"
    )[:1024]
    reference = Dataset()
    reference.ReferencedSOPClassUID = src.SOPClassUID
    reference.ReferencedSOPInstanceUID = src.SOPInstanceUID
    ds.SourceImageSequence = DicomSequence([reference])
    ds.ReferencedImageSequence = DicomSequence([Dataset(reference)])
    ds.BurnedInAnnotation = "NO"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = (int(s) for s in pixels.shape)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelSpacing = [f"{float(s):.6g}" for s in spacing]
    ds.WindowCenter, ds.WindowWidth = 32768, 65536
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"
    ds.PixelData = pixels.tobytes()

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    if _PYDICOM_3:
        ds.save_as(str(path), enforce_file_format=True)
    else:
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(str(path), write_like_original=False)
    Path(path).chmod(0o644)
    return ds
