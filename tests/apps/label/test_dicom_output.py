"""The SR outputs: the derived DICOM (read back by MammoReader, pydicom 2.4 and 3) and the NIfTI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from monai_mammo.apps.label.dicom_output import SECONDARY_CAPTURE, derived_sr_dicom, write_nifti
from monai_mammo.data import MammoReader

pytestmark = pytest.mark.label


def test_derived_dicom_joins_the_source_study(cbis_dicoms: list[Path], tmp_path: Path) -> None:
    source = pydicom.dcmread(cbis_dicoms[0], stop_before_pixels=True)
    sr = np.linspace(0.0, 1.0, 12 * 8, dtype=np.float32).reshape(12, 8)
    ds = derived_sr_dicom(cbis_dicoms[0], sr, [0.05, 0.04], [0.0, 1.0], 2, {"version": "abc"}, tmp_path / "sr.dcm")
    back = pydicom.dcmread(tmp_path / "sr.dcm")
    assert back.StudyInstanceUID == source.StudyInstanceUID and back.PatientID == source.PatientID
    assert back.SeriesInstanceUID != source.SeriesInstanceUID and back.SOPInstanceUID != source.SOPInstanceUID
    assert back.SOPClassUID == SECONDARY_CAPTURE and list(back.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    assert back.SourceImageSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    assert [float(s) for s in back.PixelSpacing] == [0.05, 0.04] and ds.Rows == 12 and ds.Columns == 8
    arr, meta = MammoReader().load(tmp_path / "sr.dcm")
    assert arr.shape == (12, 8) and meta["modality"] == "MG"
    assert np.allclose(arr / 65535.0, sr, atol=1e-4)  # rows and columns as given, full 16-bit range


def test_nifti_has_the_column_index_fastest(tmp_path: Path) -> None:
    nibabel = pytest.importorskip("nibabel", reason="nibabel (the label extra) is not installed")
    arr = np.arange(6 * 4, dtype=np.float32).reshape(6, 4)
    write_nifti(tmp_path / "sr.nii.gz", arr, [0.5, 0.25])
    img = nibabel.load(tmp_path / "sr.nii.gz")
    assert img.shape == (4, 6, 1) and np.array_equal(np.asarray(img.dataobj)[:, :, 0].T, arr)
    assert np.allclose(img.header.get_zooms()[:2], [0.25, 0.5])
