from __future__ import annotations

import numpy as np
import pytest
from monai.transforms import Compose, ScaleIntensityd

from monai_mammo.data.synthetic import SyntheticBreastDataset, SyntheticMammograms


def test_items_match_generator_and_transform_applies():
    ds = SyntheticBreastDataset(4, modality="MG", image_size=48, seed=2, transform=Compose([ScaleIntensityd("image")]))
    item = ds[3]
    raw = SyntheticMammograms(48, seed=2)[3]
    assert item["image"].shape == item["mask"].shape == (1, 48, 48)
    assert item["label"] == raw.label and item["patient_id"] == raw.meta["patient_id"]
    assert float(item["image"].max()) == pytest.approx(1.0)
    np.testing.assert_array_equal(np.asarray(item["mask"])[0], raw.mask)


def test_length_and_index_errors():
    ds = SyntheticBreastDataset(3, modality="US", image_size=40)
    assert len(ds) == 3 and ds[-1]["label"] == ds[2]["label"]
    with pytest.raises(IndexError):
        ds[3]


@pytest.mark.parametrize("kwargs, name", [({"num_images": 0}, "num_images"), ({"modality": "CT"}, "CT")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SyntheticBreastDataset(**{"num_images": 2, **kwargs})
