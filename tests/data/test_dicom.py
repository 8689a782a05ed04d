"""The DICOM pixel pipeline against pydicom's own LUT functions, on small copies of a real CBIS-DDSM mammogram.

One real DICOM is decoded once per module, cropped to 256x256 and rewritten uncompressed in ``tmp_path``
with the tags each test needs (nothing derived from it is kept outside ``tmp_path``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pydicom
import pytest
from monai.utils import OptionalImportError
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian

from monai_mammo.data.dicom import (
    PYDICOM_3,
    MammoImageError,
    _pixels,
    decode_stored_values,
    dicom_metadata,
    dicom_to_array,
    parse_laterality_view,
)
from monai_mammo.utils import MammoKeys


def save_dicom(ds: Dataset, path: Path, pixels: np.ndarray | None = None) -> Path:
    """Write ``ds`` (changed in place) uncompressed (Explicit VR Little Endian) with ``pixels`` as its pixel data."""
    if pixels is not None:
        ds.Rows, ds.Columns = pixels.shape[-2:]
        ds.PixelData = np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder("<")).tobytes()
        ds["PixelData"].VR = "OW" if pixels.dtype.itemsize > 1 else "OB"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if PYDICOM_3:
        ds.save_as(path, enforce_file_format=True)
    else:  # pydicom 2.4 writes with the dataset's own encoding flags
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(path, write_like_original=False)
    return path


@pytest.fixture(scope="module")
def real_crop(cbis_dicoms_first: tuple[Dataset, np.ndarray]) -> tuple[Dataset, np.ndarray]:
    """Header of a real CBIS-DDSM mammogram and a 256x256 crop of its pixels (breast tissue)."""
    ds, pixels = cbis_dicoms_first
    rows, cols = pixels.shape
    top = rows // 2 - 128
    left = 100 if pixels[:, : cols // 2].mean() > pixels[:, cols // 2 :].mean() else cols - 356  # the breast side
    return ds, np.ascontiguousarray(pixels[top : top + 256, left : left + 256])


@pytest.fixture(scope="module")
def window(real_crop) -> tuple[float, float]:
    """A (center, width) window that cuts into the crop's values."""
    low, mid, high = np.percentile(real_crop[1], [10, 50, 90])
    return float(round(mid)), float(round(high - low))


@pytest.fixture(scope="module")
def cbis_dicoms_first(cbis_ddsm_dicoms: list[Path]) -> tuple[Dataset, np.ndarray]:
    ds = pydicom.dcmread(cbis_ddsm_dicoms[0])
    return ds, ds.pixel_array  # the one decode of this module


def make(tmp_path: Path, real_crop, pixels: np.ndarray | None = None, name: str = "copy.dcm", **tags) -> Dataset:
    """Write a modified copy and read it back, as a reader would see it."""
    ds = copy.deepcopy(real_crop[0])
    for tag, value in tags.items():
        if value is None:
            if tag in ds:
                delattr(ds, tag)
        else:
            setattr(ds, tag, value)
    return pydicom.dcmread(save_dicom(ds, tmp_path / name, real_crop[1] if pixels is None else pixels))


def test_identity_pipeline_keeps_raw_values_and_orientation(tmp_path, real_crop):
    ds = make(tmp_path, real_crop)
    out, meta = dicom_to_array(ds)
    assert out.dtype == np.float32 and out.shape == (256, 256)
    np.testing.assert_array_equal(out, real_crop[1].astype(np.float32))  # no transpose, no flip
    assert meta[MammoKeys.WINDOW_FUNCTION] == "NONE" and np.isnan(meta[MammoKeys.WINDOW]).all()
    assert not meta[MammoKeys.INVERTED]
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 65535])


def test_rescale_matches_pydicom(tmp_path, real_crop):
    ds = make(tmp_path, real_crop, RescaleSlope=0.5, RescaleIntercept=-100)
    out, meta = dicom_to_array(ds)
    np.testing.assert_allclose(out, _pixels.apply_modality_lut(ds.pixel_array, ds), rtol=1e-6)
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [-100, 65535 * 0.5 - 100])


def _lut(entries: int, first: int, bits: int, values: np.ndarray) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [entries, first, bits]
    item.LUTData = [int(v) for v in values]
    item["LUTData"].VR = "US"
    return item


def test_modality_lut_sequence_matches_pydicom(tmp_path, real_crop):
    lut = _lut(4096, 0, 16, np.linspace(65535, 0, 4096))
    ds = make(tmp_path, real_crop, real_crop[1] >> 4, ModalityLUTSequence=DicomSequence([lut]))
    out, meta = dicom_to_array(ds)
    np.testing.assert_array_equal(out, _pixels.apply_modality_lut(ds.pixel_array, ds))
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 65535])


def test_modality_lut_with_12_bit_entries(tmp_path, real_crop):
    """pydicom fails on 12-bit LUT entries (dtype 'uint12'); ours indexes the LUT directly."""
    values = np.arange(4096)[::-1]
    ds = make(tmp_path, real_crop, real_crop[1] >> 4, ModalityLUTSequence=DicomSequence([_lut(4096, 0, 12, values)]))
    out, meta = dicom_to_array(ds)
    np.testing.assert_array_equal(out, values[real_crop[1] >> 4])
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 4095])


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
def test_window_functions_match_pydicom(tmp_path, real_crop, window, function):
    ds = make(tmp_path, real_crop, WindowCenter=window[0], WindowWidth=window[1], VOILUTFunction=function)
    out, meta = dicom_to_array(ds)
    np.testing.assert_allclose(out, _pixels.apply_windowing(ds.pixel_array, ds).astype(np.float32), rtol=1e-6)
    assert meta[MammoKeys.WINDOW_FUNCTION] == function
    np.testing.assert_array_equal(meta[MammoKeys.WINDOW], window)
    assert 0 < out.mean() < 65535 and out.min() >= 0 and out.max() <= 65535


@pytest.mark.parametrize(("choice", "index"), [(0, 0), (1, 1), (-1, 2), ("widest", 1), ("narrowest", 2)])
def test_window_choice(tmp_path, real_crop, choice, index):
    centers, widths = [29000, 30000, 28000], [8000, 12000, 2000]
    ds = make(tmp_path, real_crop, WindowCenter=centers, WindowWidth=widths)
    out, meta = dicom_to_array(ds, window=choice)
    np.testing.assert_array_equal(meta[MammoKeys.WINDOW], [centers[index], widths[index]])
    np.testing.assert_allclose(out, _pixels.apply_windowing(ds.pixel_array, ds, index=index), rtol=1e-6)


def test_window_index_out_of_range_names_file(tmp_path, real_crop):
    ds = make(tmp_path, real_crop, WindowCenter=29000, WindowWidth=8000)
    with pytest.raises(MammoImageError, match=r"copy\.dcm.*window=3.*1 windows"):
        dicom_to_array(ds, window=3)


def test_invalid_window_width_names_file(tmp_path, real_crop):
    ds = make(tmp_path, real_crop, WindowCenter=29000, WindowWidth=0, VOILUTFunction="SIGMOID")
    with pytest.raises(MammoImageError, match=r"copy\.dcm.*window"):
        dicom_to_array(ds)


def test_voi_lut_sequence_matches_pydicom_and_is_preferred(tmp_path, real_crop, window):
    lut = _lut(4096, int(window[0]) - 2048, 16, np.linspace(0, 65535, 4096))
    ds = make(tmp_path, real_crop, VOILUTSequence=DicomSequence([lut]), WindowCenter=window[0], WindowWidth=window[1])
    out, meta = dicom_to_array(ds)
    np.testing.assert_array_equal(out, _pixels.apply_voi(ds.pixel_array, ds))
    assert meta[MammoKeys.WINDOW_FUNCTION] == "VOI_LUT"
    out_window, meta_window = dicom_to_array(ds, prefer_voi_lut=False)
    assert meta_window[MammoKeys.WINDOW_FUNCTION] == "LINEAR"
    np.testing.assert_allclose(out_window, _pixels.apply_windowing(ds.pixel_array, ds), rtol=1e-6)


def test_apply_voi_false_keeps_modality_values(tmp_path, real_crop, window):
    ds = make(tmp_path, real_crop, WindowCenter=window[0], WindowWidth=window[1])
    out, meta = dicom_to_array(ds, apply_voi=False)
    np.testing.assert_array_equal(out, real_crop[1])
    assert meta[MammoKeys.WINDOW_FUNCTION] == "NONE"


@pytest.mark.parametrize(
    ("photometric", "shape", "inverted"),
    [
        ("MONOCHROME1", None, True),
        ("MONOCHROME2", "INVERSE", True),
        ("MONOCHROME1", "INVERSE", True),  # both say the same thing: one inversion, not two
        ("MONOCHROME2", "IDENTITY", False),
        ("MONOCHROME2", None, False),
    ],
)
def test_inversion_exactly_when_it_should(tmp_path, real_crop, photometric, shape, inverted):
    ds = make(tmp_path, real_crop, PhotometricInterpretation=photometric, PresentationLUTShape=shape)
    out, meta = dicom_to_array(ds)
    expected = 65535 - real_crop[1].astype(np.float32) if inverted else real_crop[1]
    np.testing.assert_array_equal(out, expected)
    assert meta[MammoKeys.INVERTED] is inverted
    assert meta[MammoKeys.PHOTOMETRIC] == photometric


def test_monochrome1_with_window_inverts_inside_window_range(tmp_path, real_crop, window):
    ds = make(
        tmp_path, real_crop, PhotometricInterpretation="MONOCHROME1", WindowCenter=window[0], WindowWidth=window[1]
    )
    out, meta = dicom_to_array(ds)
    windowed = _pixels.apply_windowing(ds.pixel_array, ds)
    np.testing.assert_allclose(out, 65535 - windowed, rtol=1e-6, atol=1e-3)
    assert meta[MammoKeys.INVERTED]


def test_bits_stored_masks_garbage_high_bits(tmp_path, real_crop):
    values = (real_crop[1] >> 4).astype(np.uint16)  # 12-bit values
    garbage = values | np.uint16(0xB000)
    ds = make(tmp_path, real_crop, garbage, BitsStored=12, HighBit=11)
    out, meta = dicom_to_array(ds)
    np.testing.assert_array_equal(out, values)
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 4095])
    assert meta[MammoKeys.BITS_STORED] == 12


def test_signed_pixel_representation(tmp_path, real_crop):
    values = (real_crop[1] >> 4).astype(np.int16) - 2048  # 12-bit signed: -2048..2047
    stored = (values.view(np.uint16) & 0x0FFF) | np.uint16(0x5000)  # two's complement in 12 bits + garbage
    ds = make(tmp_path, real_crop, stored, BitsStored=12, HighBit=11, PixelRepresentation=1)
    out, meta = dicom_to_array(ds)
    np.testing.assert_array_equal(out, values)
    assert out.min() < 0
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [-2048, 2047])


def test_no_pixel_data_names_file():
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("rtplan.dcm"))
    with pytest.raises(MammoImageError, match=r"rtplan\.dcm.*without pixel data"):
        decode_stored_values(ds)


def test_several_frames_rejected(tmp_path, real_crop):
    ds = make(tmp_path, real_crop, np.stack([real_crop[1], real_crop[1]]), NumberOfFrames=2)
    with pytest.raises(MammoImageError, match=r"copy\.dcm.*2 frames.*2D"):
        dicom_to_array(ds)


def test_truncated_pixel_data_names_file(tmp_path, real_crop):
    path = save_dicom(copy.deepcopy(real_crop[0]), tmp_path / "cut.dcm", real_crop[1])
    path.write_bytes(path.read_bytes()[:-5000])
    ds = pydicom.dcmread(path)
    with pytest.raises(MammoImageError, match=r"cut\.dcm.*cannot decode"):
        dicom_to_array(ds)


def test_missing_decoder_gives_install_hint(monkeypatch):
    path = pydicom.data.get_testdata_file("MR_small_jp2klossless.dcm")
    ds = pydicom.dcmread(path)
    if PYDICOM_3:
        monkeypatch.setattr(_pixels.get_decoder(ds.file_meta.TransferSyntaxUID), "_available", {})
    else:  # pragma: no cover - pydicom 2.4
        monkeypatch.setattr(pydicom.config, "pixel_data_handlers", [])
    with pytest.raises(OptionalImportError, match=r"MR_small_jp2klossless\.dcm.*JPEG 2000.*monai-mammo\[dicom\]"):
        dicom_to_array(ds)


def test_jpeg2000_decodes_with_plugins():
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("MR_small_jp2klossless.dcm"))
    reference = pydicom.dcmread(pydicom.data.get_testdata_file("MR_small.dcm"))
    out, _ = dicom_to_array(ds, apply_voi=False)
    np.testing.assert_array_equal(out, reference.pixel_array)


@pytest.mark.parametrize(
    ("texts", "laterality", "view"),
    [
        (("Mass-Test_P_00820_LEFT_MLO",), "L", "MLO"),
        (("Calc-Training_P_00005_RIGHT_CC_1",), "R", "CC"),
        (("full mammogram images", "P_00001_RIGHT_MLO"), "R", "MLO"),
        (("cranio-caudal",), "U", "CC"),
        (("medio-lateral oblique",), "U", "MLO"),
        (("mdb001",), "U", "UNKNOWN"),
        (("LEFT", "RIGHT"), "U", "UNKNOWN"),  # conflicting words
        (("L CC",), "U", "CC"),  # single letters are not used
        ((None, ""), "U", "UNKNOWN"),
    ],
)
def test_parse_laterality_view(texts, laterality, view):
    assert parse_laterality_view(*texts) == (laterality, view)


def test_metadata_precedence(real_crop):
    ds = copy.deepcopy(real_crop[0])
    ds.ImageLaterality, ds.Laterality, ds.ViewPosition = "R", "L", "CC"
    ds.ImagerPixelSpacing, ds.PixelSpacing = [0.07, 0.05], [0.1, 0.1]
    meta = dicom_metadata(ds)
    assert (meta[MammoKeys.LATERALITY], meta[MammoKeys.VIEW]) == ("R", "CC")
    np.testing.assert_array_equal(meta[MammoKeys.SPACING], [0.07, 0.05])
    assert meta[MammoKeys.SPACING_SOURCE] == "ImagerPixelSpacing"
    del ds.ImagerPixelSpacing, ds.ImageLaterality, ds.ViewPosition
    meta = dicom_metadata(ds)
    assert meta[MammoKeys.SPACING_SOURCE] == "PixelSpacing" and meta[MammoKeys.LATERALITY] == "L"
    assert meta[MammoKeys.VIEW] == real_crop[0].PatientID.rsplit("_", 1)[-1]  # from the CBIS-DDSM PatientID
    del ds.PixelSpacing, ds.Laterality
    meta = dicom_metadata(ds)
    assert meta[MammoKeys.SPACING_SOURCE] == "none"
    np.testing.assert_array_equal(meta[MammoKeys.SPACING], [1.0, 1.0])
    assert meta[MammoKeys.LATERALITY] == ("L" if "LEFT" in ds.PatientID else "R")


@pytest.mark.parametrize(
    ("tags", "laterality", "view"),
    [
        ({"ImageLaterality": "B", "ViewPosition": "ML"}, "U", "UNKNOWN"),  # both breasts; a view we do not map
        ({"ImageLaterality": "L", "ViewPosition": "MLO"}, "L", "MLO"),
        ({"ImageLaterality": "R", "ViewCode": "cranio-caudal"}, "R", "CC"),
        ({"ImageLaterality": "R", "ViewCode": "medio-lateral oblique"}, "R", "MLO"),
    ],
)
def test_metadata_laterality_and_view_tags(real_crop, tags, laterality, view):
    ds = copy.deepcopy(real_crop[0])
    for tag, value in tags.items():
        if tag == "ViewCode":
            code = Dataset()
            code.CodeMeaning = value
            ds.ViewCodeSequence = DicomSequence([code])
        else:
            setattr(ds, tag, value)
    ds.PatientID, ds.PatientOrientation = "anonymous", ""  # no words to fall back on
    meta = dicom_metadata(ds)
    assert (meta[MammoKeys.LATERALITY], meta[MammoKeys.VIEW]) == (laterality, view)


def test_metadata_ids_and_collate_safe_values(real_crop):
    meta = dicom_metadata(real_crop[0])
    assert meta[MammoKeys.MODALITY] == "MG"
    assert meta[MammoKeys.PATIENT_ID] == real_crop[0].PatientID
    assert meta[MammoKeys.STUDY_UID] == real_crop[0].StudyInstanceUID
    assert meta[MammoKeys.SERIES_UID] == real_crop[0].SeriesInstanceUID
    assert all(v is not None for v in meta.values())


def test_ultrasound_region_spacing():
    if not PYDICOM_3:  # pragma: no cover
        pytest.skip("pydicom 2.4 does not bundle examples_palette.dcm")
    ds = pydicom.dcmread(pydicom.data.get_testdata_file("examples_palette.dcm"))
    meta = dicom_metadata(ds)
    region = ds.SequenceOfUltrasoundRegions[0]
    assert meta[MammoKeys.SPACING_SOURCE] == "SequenceOfUltrasoundRegions"
    np.testing.assert_allclose(meta[MammoKeys.SPACING], [region.PhysicalDeltaY * 10, region.PhysicalDeltaX * 10])
