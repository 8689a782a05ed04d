"""One-slice NIfTI and NRRD files read under the DICOM contract: (rows, columns), (row, column) spacing in mm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from monai.utils import optional_import

from monai_mammo.data import MammoImageError, MammoReader
from monai_mammo.data.volume import is_volume_file, read_volume_slice
from monai_mammo.transforms import LoadMammogram
from monai_mammo.utils import MammoKeys

nib, has_nib = optional_import("nibabel")
itk, has_itk = optional_import("itk")


@pytest.fixture(scope="module")
def mammogram(cbis_ddsm_dicoms: list[Path]) -> np.ndarray:
    """A real CBIS-DDSM mammogram, cut to a non-square piece (rows != columns shows a transpose)."""
    arr, _ = MammoReader().load(cbis_ddsm_dicoms[0])
    return arr[::16, ::16][:200, :120].copy()


@pytest.mark.skipif(not has_nib, reason="nibabel is not installed (pip install 'monai-mammo[volumes]')")
def test_nifti_as_slicer_writes_it(tmp_path: Path, mammogram: np.ndarray) -> None:
    """3D Slicer stores a 2D image as (i, j, 1) with i the column: read back as (rows, columns)."""
    path = tmp_path / "RIGHT_CC.nii.gz"
    affine = np.diag([0.25, 0.5, 1.0, 1.0])  # i (column) spacing 0.25 mm, j (row) spacing 0.5 mm
    nib.save(nib.Nifti1Image(mammogram.T[..., None].astype(np.float32), affine), str(path))
    img = LoadMammogram(modality="MG")(path)
    assert img.shape == (1, *mammogram.shape)
    np.testing.assert_array_equal(img[0].numpy(), mammogram)
    np.testing.assert_allclose(img.meta[MammoKeys.SPACING], [0.5, 0.25])
    assert img.meta[MammoKeys.FORMAT] == "NIFTI" and img.meta[MammoKeys.MODALITY] == "MG"
    assert img.meta[MammoKeys.LATERALITY] == "R" and img.meta[MammoKeys.VIEW] == "CC"


@pytest.mark.skipif(not has_itk, reason="ITK is not installed (pip install 'monai-mammo[volumes]')")
def test_nrrd_as_slicer_writes_it(tmp_path: Path, mammogram: np.ndarray) -> None:
    path = tmp_path / "scan.nrrd"
    image = itk.image_from_array(mammogram.astype(np.uint16)[None])  # (z, y, x) = (1, rows, columns)
    image.SetSpacing((0.25, 0.5, 1.0))  # x (column), y (row), z
    itk.imwrite(image, str(path))
    img = LoadMammogram()(path)
    np.testing.assert_array_equal(img[0].numpy(), mammogram.astype(np.uint16))
    np.testing.assert_allclose(img.meta[MammoKeys.SPACING], [0.5, 0.25])
    assert img.meta[MammoKeys.FORMAT] == "NRRD"


@pytest.mark.skipif(not has_nib, reason="nibabel is not installed (pip install 'monai-mammo[volumes]')")
def test_a_volume_of_several_slices_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "volume.nii"
    nib.save(nib.Nifti1Image(np.zeros((8, 6, 3), np.float32), np.eye(4)), str(path))
    with pytest.raises(MammoImageError, match=r"volume.nii: image of shape \(8, 6, 3\); expected one 2D image"):
        read_volume_slice(path)


def test_names() -> None:
    assert all(is_volume_file(n) for n in ("a.nii", "a.NII.GZ", "a.nrrd", "a.nhdr"))
    assert not any(is_volume_file(n) for n in ("a.gz", "a.png", "a.dcm"))
    assert MammoReader().verify_suffix("x.nii.gz")
