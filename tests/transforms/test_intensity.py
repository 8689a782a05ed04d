"""NormalizeMammogram(d) on real CBIS-DDSM mammograms and small arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_mammo.transforms import LoadMammogram, NormalizeMammogram, NormalizeMammogramd
from monai_mammo.transforms.utils import breast_mask


@pytest.fixture(scope="module")
def mammogram(cbis_ddsm_dicoms):
    return LoadMammogram()(cbis_ddsm_dicoms[0])


def test_percentile_window_inside_breast(mammogram):
    out = NormalizeMammogram("percentile", lower=0.5, upper=99.5, region="mask")(mammogram)
    assert isinstance(out, MetaTensor) and out.meta["laterality"] == mammogram.meta["laterality"]
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0
    inside = out[0].numpy()[breast_mask(mammogram)]
    assert 0.2 < float(np.median(inside)) < 0.8  # the window is the breast's, not the background's


def test_zscore_inside_breast(mammogram):
    out = NormalizeMammogram("zscore", region="mask", max_samples=None)(mammogram)
    inside = out[0].numpy()[breast_mask(mammogram)]
    assert abs(inside.mean()) < 1e-3 and abs(inside.std() - 1) < 1e-3


@pytest.mark.parametrize("region", ["nonzero", "all"])
def test_regions_on_small_array(region):
    img = np.zeros((1, 8, 8), dtype=np.float32)
    img[0, 2:6, 2:6] = np.arange(16).reshape(4, 4) + 1
    out = NormalizeMammogram("percentile", lower=0, upper=100, region=region)(img)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert out.max() == 1.0
    assert (out[0, 0, 0] == 0) if region == "all" else (out[0, 2, 2] == 0)


def test_tensor_in_tensor_out():
    img = torch.rand(1, 16, 16)
    out = NormalizeMammogram("zscore", region="all")(img)
    assert isinstance(out, torch.Tensor) and not isinstance(out, MetaTensor)


@pytest.mark.parametrize("mode", ["percentile", "zscore"])
def test_constant_image_raises(mode):
    with pytest.raises(ValueError, match="constant"):
        NormalizeMammogram(mode, region="all")(np.full((1, 8, 8), 3.0))


def test_nan_raises():
    img = np.ones((1, 8, 8))
    img[0, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NormalizeMammogram(region="all")(img)


@pytest.mark.parametrize(
    "kwargs, match", [({"mode": "minmax"}, "minmax"), ({"lower": 60, "upper": 40}, "lower"), ({"region": "x"}, "x")]
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NormalizeMammogram(**kwargs)


def test_dict_with_mask_key():
    img = np.zeros((1, 8, 8), dtype=np.float32)
    img[0, :4] = 10.0
    img[0, 4:] = np.arange(32).reshape(4, 8)
    mask = np.zeros_like(img)
    mask[0, 4:] = 1
    out = NormalizeMammogramd("image", lower=0, upper=100, mask_key="mask")({"image": img, "mask": mask})
    assert out["image"][0, 4, 0] == 0 and out["image"][0, 7, 7] == 1 and out["image"][0, 0, 0] == pytest.approx(10 / 31)
