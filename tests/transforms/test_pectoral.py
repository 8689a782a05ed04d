"""SuppressPectoralMuscle on the real CBIS-DDSM MLO/CC DICOMs and on mini-MIAS (all MLO)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from monai_mammo.transforms import LoadMammogram, SuppressPectoralMuscle, SuppressPectoralMuscled
from monai_mammo.transforms.utils import breast_mask, chest_wall_side

MIAS = ["mdb005", "mdb010", "mdb019", "mdb022", "mdb025", "mdb028", "mdb058", "mdb063"]


def _check_corner(mask: np.ndarray, breast: np.ndarray, wall: str) -> None:
    fraction = mask.sum() / breast.sum()
    assert 0.01 <= fraction <= 0.3, fraction
    ys, xs = np.nonzero(mask)
    rows, cols = np.flatnonzero(breast.any(1)), np.flatnonzero(breast.any(0))
    # upper part of the breast, on the chest-wall side
    assert ys.mean() < rows[0] + 0.35 * (rows[-1] - rows[0])
    x_rel = (xs.mean() - cols[0]) / (cols[-1] - cols[0])
    assert x_rel < 0.35 if wall == "L" else x_rel > 0.65
    assert (mask <= breast).all()


@pytest.fixture(scope="module")
def cbis(cbis_ddsm_dicoms):
    load = LoadMammogram()
    return [load(p) for p in cbis_ddsm_dicoms]


def test_mlo_pectoral_removed_in_upper_chest_wall_corner(cbis):
    mlo = [img for img in cbis if img.meta["view"] == "MLO"]
    assert len(mlo) == 4
    for img in mlo:
        out, mask = SuppressPectoralMuscle(return_mask=True)(img)
        m = mask[0].numpy().astype(bool)
        _check_corner(m, breast_mask(img), img.meta["laterality"])
        assert out.meta["pectoral_removed"] is True and float(out[0][m].max()) == 0.0
        assert torch.equal(out[0][~m], img[0][~m])


def test_cc_unchanged(cbis):
    for img in [img for img in cbis if img.meta["view"] == "CC"][:2]:
        out = SuppressPectoralMuscle()(img)
        assert torch.equal(out.as_tensor(), img.as_tensor()) and out.meta["pectoral_removed"] is False


def test_mias_mlo(mias_dir):
    found = 0
    for name in MIAS:
        img = np.asarray(Image.open(mias_dir / f"{name}.png"), dtype=np.float32)[None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, mask = SuppressPectoralMuscle(view="MLO", return_mask=True)(img)
        assert isinstance(out, np.ndarray)
        if mask.any():
            found += 1
            breast = breast_mask(img)
            _check_corner(mask[0].astype(bool), breast, chest_wall_side(img, breast))
    assert found >= 6


def test_dict_fills_all_keys_and_writes_mask(cbis):
    img = next(img for img in cbis if img.meta["view"] == "MLO")
    out = SuppressPectoralMuscled(["image", "copy"], mask_key="pectoral")({"image": img, "copy": img.clone()})
    assert torch.equal(out["image"].as_tensor(), out["copy"].as_tensor()) and out["pectoral"].sum() > 0


@pytest.mark.parametrize("kwargs", [{"view": "ML"}, {"min_fraction": 0.5, "max_fraction": 0.1}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        SuppressPectoralMuscle(**kwargs)


def test_constant_image_raises():
    with pytest.raises(ValueError, match="constant"):
        SuppressPectoralMuscle(view="MLO")(np.zeros((1, 64, 64)))
