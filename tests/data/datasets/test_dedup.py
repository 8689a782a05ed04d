"""dHash and near-duplicate clusters."""

from __future__ import annotations

import numpy as np
import pytest

from monai_mammo.data.datasets import dhash, duplicate_clusters


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 80), dtype=np.uint8)


def test_hash_size() -> None:
    assert dhash(_image(0), hash_size=8).shape == (64,)


def test_near_copy_is_close_and_other_image_far() -> None:
    image = _image(0)
    noisy = np.clip(image.astype(int) + np.random.default_rng(1).integers(-3, 4, image.shape), 0, 255)
    assert (dhash(image) != dhash(noisy)).sum() <= 10
    assert (dhash(image) != dhash(_image(2))).sum() > 10


def test_clusters() -> None:
    images = [_image(0), _image(1), _image(0), _image(3), _image(1)]
    assert duplicate_clusters(images, max_distance=0) == [[0, 2], [1, 4]]
    assert duplicate_clusters(images[:1]) == []


@pytest.mark.parametrize(("kwargs", "message"), [({"max_distance": -1}, "max_distance")])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        duplicate_clusters([_image(0), _image(1)], **kwargs)
