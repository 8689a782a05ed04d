from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.synthetic import make_synthetic_dataset

pydicom = pytest.importorskip("pydicom", reason="pydicom (the 'dicom' reader's dependency) is not installed")


@pytest.fixture(scope="module")
def png_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("png")
    return root, json.loads(make_synthetic_dataset(root, num_images=40, image_size=64, folds=3, seed=1).read_text())


@pytest.fixture(scope="module")
def dicom_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("dcm")
    path = make_synthetic_dataset(root, num_images=32, image_size=64, image_format="dicom", folds=2, compression="rle")
    return root, json.loads(path.read_text())


def _items(datalist):
    return datalist["training"] + datalist["test"]


def test_datalist_items_and_files(png_dataset):
    root, datalist = png_dataset
    items = _items(datalist)
    assert len(items) == 40 and {it["modality"] for it in items} == {"MG", "US"}
    for item in items:
        assert {"image", "label", "mask", "modality", "patient_id", "laterality", "view"} <= set(item)
        assert (root / item["image"]).is_file() and (root / item["mask"]).is_file()
    assert all("fold" in it for it in datalist["training"]) and datalist["test"]


def test_folds_grouped_by_woman_and_test_disjoint(png_dataset):
    _, datalist = png_dataset
    fold_of: dict[str, set] = {}
    for item in datalist["training"]:
        fold_of.setdefault(item["patient_id"], set()).add(item["fold"])
    assert all(len(f) == 1 for f in fold_of.values())
    assert not set(fold_of) & {it["patient_id"] for it in datalist["test"]}
    assert {it["label"] for it in datalist["test"]} == {0, 1, 2}


def test_png_bit_depths_and_masks(png_dataset):
    root, datalist = png_dataset
    for item in _items(datalist):
        image = np.asarray(Image.open(root / item["image"]))
        assert image.dtype == (np.uint16 if item["modality"] == "MG" else np.uint8)
        mask = np.asarray(Image.open(root / item["mask"]))
        assert set(np.unique(mask)) <= {0, 255} and bool(mask.any()) == (item["label"] > 0)


def test_rerun_gives_identical_files(tmp_path, png_dataset):
    root, datalist = png_dataset
    again = json.loads(make_synthetic_dataset(tmp_path, num_images=40, image_size=64, folds=3, seed=1).read_text())
    assert again == datalist
    first = datalist["training"][0]["image"]
    assert (tmp_path / first).read_bytes() == (root / first).read_bytes()


def test_dicom_tags(dicom_dataset):
    root, datalist = dicom_dataset
    photometric = set()
    for item in _items(datalist):
        ds = pydicom.dcmread(root / item["image"])
        assert ds.Modality == item["modality"] and ds.PatientID == item["patient_id"]
        assert ds.ImageLaterality == item["laterality"]
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
        if ds.Modality == "MG":
            assert ds.ViewPosition == item["view"] and ds.BitsAllocated == 16 and ds.BitsStored in (12, 14)
            assert len(ds.ImagerPixelSpacing) == 2 and "WindowCenter" in ds and ds.RescaleSlope == 1
            assert int(ds.pixel_array.max()) < 2**ds.BitsStored
            photometric.add(ds.PhotometricInterpretation)
        else:
            assert ds.BitsStored == 8 and ds.PhotometricInterpretation == "MONOCHROME2"
    assert photometric == {"MONOCHROME1", "MONOCHROME2"}


def test_dicom_uids_deterministic_and_shared_per_study(tmp_path, dicom_dataset):
    root, datalist = dicom_dataset
    path = make_synthetic_dataset(tmp_path, num_images=32, image_size=64, image_format="dicom", folds=2)
    first, second = datalist["training"][0], datalist["training"][1]
    a, b = pydicom.dcmread(root / first["image"]), pydicom.dcmread(path.parent / first["image"])
    assert a.SOPInstanceUID == b.SOPInstanceUID and a.StudyInstanceUID == b.StudyInstanceUID
    np.testing.assert_array_equal(a.pixel_array, b.pixel_array)  # RLE and uncompressed hold the same values
    other = pydicom.dcmread(root / second["image"])
    assert (other.StudyInstanceUID == a.StudyInstanceUID) == (second["patient_id"] == first["patient_id"])
    assert other.SOPInstanceUID != a.SOPInstanceUID


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"num_images": -3}, "num_images"),
        ({"num_images": 0}, "num_images"),
        ({"modality": "CT"}, "CT"),
        ({"image_format": "jpeg"}, "jpeg"),
        ({"image_size": 8}, "image_size"),
        ({"folds": 1}, "folds"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"bit_depth": 12}, "bit_depth"),
        ({"compression": "zip"}, "compression"),
        ({"num_images": 4}, "too few"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_synthetic_dataset(tmp_path, **{"num_images": 30, **kwargs})
    assert not any(tmp_path.iterdir())  # nothing written


def test_dicom_read_back_by_mammo_reader(dicom_dataset):
    """The reader's display pipeline (BitsStored, window, MONOCHROME1 inversion) recovers the generated image."""
    from monai_mammo.data import MammoReader
    from monai_mammo.data.synthetic import SyntheticMammograms

    root, datalist = dicom_dataset
    gen = SyntheticMammograms(64, seed=0)
    reader = MammoReader()
    for index, name in [(0, "SYN-MG-00000"), (3, "SYN-MG-00001")]:  # image 3 is MONOCHROME1
        expected = gen[index]
        item = next(it for it in _items(datalist) if it["patient_id"] == name and it["view"] == expected.meta["view"])
        array, meta = reader.get_data(reader.read(root / item["image"]))
        assert np.corrcoef(np.asarray(array).ravel(), expected.image.ravel())[0, 1] > 0.99
        assert meta["laterality"] == expected.meta["laterality"] and meta["view"] == expected.meta["view"]
