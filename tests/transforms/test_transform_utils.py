"""Helpers of monai_mammo/transforms/utils.py (file named apart from tests/engines/test_utils.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_mammo.transforms.utils import (
    breast_mask,
    breast_mask_small,
    check_image,
    chest_wall_side,
    mask_bbox,
    small_mask_bbox,
    upsample_mask,
)


def _phantom() -> np.ndarray:
    img = np.zeros((1, 300, 200), dtype=np.float32)
    yy, xx = np.mgrid[:300, :200]
    img[0][((yy - 150) / 120) ** 2 + (xx / 110) ** 2 < 1] = 100.0  # half-ellipse breast against the left edge
    img[0, 10:20, 170:190] = 255.0  # a film label away from it
    return img


def test_breast_mask_drops_label_and_matches_full_resolution():
    img = _phantom()
    full = breast_mask(img, max_size=None)
    small = breast_mask(img, max_size=64)
    assert not full[10:20, 170:190].any() and full[150, 50]
    assert (full != small).mean() < 0.02


def test_small_box_and_upsampling_agree_with_full_mask():
    img = _phantom()
    small, stride = breast_mask_small(img, max_size=64)
    start, end = small_mask_bbox(small, stride, img.shape, margin=5)
    box = upsample_mask(small, stride, start, end)
    assert box.shape == (end[0] - start[0], end[1] - start[1])
    full = breast_mask(img, max_size=64)
    assert np.array_equal(box, full[start[0] : end[0], start[1] : end[1]])
    s2, e2 = mask_bbox(full, 5)
    assert s2 == start and e2 == end


def test_chest_wall_side():
    img = _phantom()
    assert chest_wall_side(img) == "L" and chest_wall_side(img[..., ::-1].copy()) == "R"


@pytest.mark.parametrize(
    "img, error", [(np.zeros((1, 0, 4)), ValueError), (torch.tensor([[[float("inf")]]]), ValueError), ([1], TypeError)]
)
def test_check_image(img, error):
    with pytest.raises(error):
        check_image(img)


def test_empty_mask_bbox_raises():
    with pytest.raises(ValueError, match="empty"):
        mask_bbox(np.zeros((4, 4), dtype=bool))
