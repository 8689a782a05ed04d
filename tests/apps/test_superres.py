"""The SR bundle's start-up checks, inference file lists and border shaving."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from monai.data import MetaTensor

from monai_mammo.apps import (
    check_fits_image_size,
    check_sr_settings,
    patch_centre_mask,
    shave_border,
    sr_inference_files,
)


@pytest.mark.parametrize("scale,patch", [(2, 16), (4, [32, 64]), (2, None)])
def test_check_settings_accepts(scale: int, patch: int | list[int] | None) -> None:
    assert check_sr_settings(scale, patch) is True


@pytest.mark.parametrize(
    "scale,patch,match",
    [(3, 18, "scale_factor must be one of"), (8, 64, "scale_factor must be one of"), (2.5, 10, "scale_factor")],
)
def test_check_settings_rejects_scale(scale: float, patch: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_sr_settings(scale, patch)  # type: ignore[arg-type]


@pytest.mark.parametrize("patch", [18, [32, 30], 0])
def test_check_settings_rejects_patch(patch: int | list[int]) -> None:
    with pytest.raises(ValueError, match="patch_size must be positive multiples of scale_factor=4"):
        check_sr_settings(4, patch)


def test_inference_files_from_items_and_folder(tmp_path: Path) -> None:
    assert sr_inference_files(None, [{"image": "a.png", "label": 1}]) == [{"image": "a.png"}]
    (tmp_path / "b.png").write_bytes(b"x")
    (tmp_path / ".hidden").write_bytes(b"x")
    assert sr_inference_files(tmp_path) == [{"image": str(tmp_path / "b.png")}]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        sr_inference_files(tmp_path / "missing")


@pytest.mark.parametrize("width", [0, 1, 3])
def test_shave_border(width: int) -> None:
    mask = torch.ones(1, 8, 10)
    out = shave_border(mask, width)
    assert float(out.sum()) == (8 - 2 * width) * (10 - 2 * width)
    assert float(mask.sum()) == 80  # the input is not changed


def test_shave_border_rejects_negative() -> None:
    with pytest.raises(ValueError, match="width"):
        shave_border(torch.ones(1, 4, 4), -1)


def test_check_fits_image_size_names_the_file() -> None:
    image = MetaTensor(torch.zeros(1, 20, 12), meta={"filename_or_obj": "/data/mdb001.png"})
    assert check_fits_image_size(image, 20) is image
    with pytest.raises(
        ValueError,
        match=r"/data/mdb001.png: its breast crop is \(20, 12\) pixels, larger than "
        r"image_size=16; with keep_resolution true, give an image_size of at least 20",
    ):
        check_fits_image_size(image, 16)


def test_patch_centre_mask_keeps_whole_patches_inside_the_breast() -> None:
    """Every centre left lets a patch_size patch (MONAI's crop: ``centre - size // 2`` .. ``+ size``) lie in the
    mask; the image edge counts as outside."""
    mask = torch.zeros(1, 100, 90, dtype=torch.uint8)
    mask[:, 10:90, 0:70] = 1
    centres = patch_centre_mask(mask, 16)
    assert centres.dtype == mask.dtype and centres.shape == mask.shape
    rows, cols = centres[0].nonzero(as_tuple=True)
    assert len(rows) > 0
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        assert r - 8 >= 10 and r + 8 <= 90 and c - 8 >= 0 and c + 8 <= 70
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (18, 81, 8, 61)  # nothing more eroded than needed


def test_patch_centre_mask_of_a_breast_smaller_than_a_patch_is_the_mask() -> None:
    mask = torch.zeros(1, 40, 40)
    mask[:, 5:20, 5:20] = 1
    assert torch.equal(patch_centre_mask(mask, 32), mask)
    with pytest.raises(ValueError, match="patch_size must be >= 1"):
        patch_centre_mask(mask, 0)
