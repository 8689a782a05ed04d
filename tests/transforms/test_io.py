"""LoadMammogram / LoadMammogramd on real images (CBIS-DDSM DICOM, MIAS, BUSI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import DataLoader, Dataset, MetaTensor
from monai.transforms import LoadImage, LoadImaged
from PIL import Image

from monai_mammo.data import MammoImageError, MammoReader
from monai_mammo.transforms import LoadMammogram, LoadMammogramd
from monai_mammo.utils import MammoKeys


def test_load_cbis_ddsm_dicom(cbis_ddsm_dicoms):
    path = cbis_ddsm_dicoms[-1]
    img = LoadMammogram()(path)
    assert isinstance(img, MetaTensor) and img.dtype == torch.float32
    assert img.ndim == 3 and img.shape[0] == 1 and img.shape[1] > img.shape[2]  # (1, rows, columns), portrait
    assert img.meta[MammoKeys.MODALITY] == "MG" and img.meta[MammoKeys.FILENAME] == str(path)
    assert img.meta[MammoKeys.LATERALITY] in ("L", "R") and img.meta[MammoKeys.VIEW] in ("CC", "MLO")
    np.testing.assert_allclose(img.pixdim, [1.0, 1.0])  # CBIS-DDSM has no spacing
    assert img.meta[MammoKeys.SPACING_SOURCE] == "none"


def test_load_mias_png_matches_pixels_without_transpose(mias_dir):
    path = mias_dir / "mdb005.png"
    img = LoadMammogram(modality="MG")(path)
    np.testing.assert_array_equal(img[0].numpy(), np.asarray(Image.open(path)))
    assert img.meta[MammoKeys.MODALITY] == "MG"


def test_ensure_channel_first_false_and_image_only_false(mias_dir):
    img, meta = LoadMammogram(ensure_channel_first=False, image_only=False)(mias_dir / "mdb005.png")
    assert img.shape == (1024, 1024) and meta[MammoKeys.FORMAT] == "PNG"


def test_options_reach_the_reader():
    load = LoadMammogram(window="widest", color_mode="auto", modality_check="error", constant="ignore")
    assert load.readers == [load.reader]
    reader = load.reader
    assert (reader.window, reader.color_mode, reader.modality_check, reader.constant) == (
        "widest",
        "auto",
        "error",
        "ignore",
    )
    with pytest.raises(ValueError):
        LoadMammogram(color_mode="sepia")


def test_attributes_match_monai_load_image():
    """LoadMammogram sets LoadImage's attributes itself (to skip MONAI's readers); guard against MONAI drift."""
    assert set(vars(LoadImage(reader=MammoReader()))) <= set(vars(LoadMammogram()))
    assert set(vars(LoadImaged("image"))) - {"_loader"} <= set(vars(LoadMammogramd("image")))


def test_errors_are_not_wrapped(tmp_path):
    (tmp_path / "notes.png").write_text("text, not pixels")
    with pytest.raises(MammoImageError, match=r"notes\.png.*not an image"):
        LoadMammogram()(tmp_path / "notes.png")


def test_runtime_reader_overrides(mias_dir):
    img = LoadMammogram()(mias_dir / "mdb005.png", reader=MammoReader(modality="US"))
    assert img.meta[MammoKeys.MODALITY] == "US"


def test_dictionary_version_with_busi_image_and_mask(busi_dir):
    item = {"image": busi_dir / "benign" / "benign (6).png", "mask": busi_dir / "benign" / "benign (6)_mask.png"}
    out = LoadMammogramd(["image", "mask"], modality="US")(item)
    assert out["image"].shape == out["mask"].shape and out["image"].shape[0] == 1
    assert set(torch.unique(out["mask"]).tolist()) <= {0.0, 1.0}
    colour = LoadMammogramd("image", color_mode="auto")(item)
    assert colour["image"].shape[0] == 3  # benign (6) has coloured annotations


def test_dictionary_version_meta_dict(mias_dir):
    out = LoadMammogramd("image", image_only=False)({"image": mias_dir / "mdb005.png"})
    assert out["image_meta_dict"][MammoKeys.FORMAT] == "PNG"
    with pytest.raises(KeyError):
        LoadMammogramd("image")({"other": "x"})
    assert "image" not in LoadMammogramd("image", allow_missing_keys=True)({"other": "x"})


def test_batches_through_a_dataloader(mias_dir, mias_pgm_dir):
    files = [mias_dir / "mdb005.png", mias_pgm_dir / "mdb006.pgm"]
    data = Dataset([{"image": f} for f in files], transform=LoadMammogramd("image", modality="MG"))
    batch = next(iter(DataLoader(data, batch_size=2, num_workers=0)))
    assert batch["image"].shape == (2, 1, 1024, 1024)
    assert list(batch["image"].meta[MammoKeys.FORMAT]) == ["PNG", "PGM"]
    assert [Path(f).name for f in batch["image"].meta[MammoKeys.FILENAME]] == ["mdb005.png", "mdb006.pgm"]
