from __future__ import annotations

import numpy as np
import pytest

from monai_mammo.data.synthetic import SyntheticUltrasounds


@pytest.fixture(scope="module")
def items():
    gen = SyntheticUltrasounds(image_size=96, seed=5)
    return [gen[i] for i in range(36)]


def test_shape_dtype_range(items):
    for item in items[:4]:
        assert item.image.shape == item.mask.shape == (96, 96)
        assert item.image.dtype == np.float32 and 0 <= item.image.min() and item.image.max() <= 1


def test_deterministic(items):
    np.testing.assert_array_equal(SyntheticUltrasounds(96, seed=5)[9].image, items[9].image)


def test_classes_and_planes(items):
    assert [it.label for it in items[:6]] == [0, 0, 1, 1, 2, 2]
    assert [it.meta["plane"] for it in items[:2]] == ["radial", "antiradial"]
    assert all(it.meta["modality"] == "US" for it in items)


def test_outside_scan_is_black_without_annotations():
    item = SyntheticUltrasounds(96, seed=0, annotations=False)[0]
    assert np.all(item.image[:3] == 0) and np.all(item.image[:, -3:] == 0)


def test_annotations_drawn_outside_scan():
    plain = SyntheticUltrasounds(96, seed=0, annotations=False)[0].image
    marked = SyntheticUltrasounds(96, seed=0)[0].image
    changed = marked != plain
    assert changed.any() and not np.any(changed & (plain > 0))


def test_lesions_are_hypoechoic(items):
    from scipy.ndimage import binary_dilation

    for item in items:
        if item.label == 0:
            assert not item.mask.any()
            continue
        ring = binary_dilation(item.mask, iterations=4) & ~binary_dilation(item.mask, iterations=1)
        ring &= item.image > 0
        assert item.image[item.mask > 0].mean() < item.image[ring].mean()


def test_benign_wider_than_tall_malignant_taller(items):
    def aspect(mask):
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        return (rows[-1] - rows[0] + 1) / (cols[-1] - cols[0] + 1)

    benign = [aspect(it.mask) for it in items if it.label == 1]
    malignant = [aspect(it.mask) for it in items if it.label == 2]
    assert np.median(benign) < 1.0 < np.median(malignant)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"image_size": 16}, "image_size"),
        ({"lesion_size": (0.5, 0.1)}, "lesion_size"),
        ({"sector_probability": 2.0}, "sector_probability"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SyntheticUltrasounds(**kwargs)
