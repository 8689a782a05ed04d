from __future__ import annotations

import numpy as np
import pytest

from monai_mammo.data.synthetic import SyntheticMammograms
from monai_mammo.data.synthetic.common import power_law_noise


@pytest.fixture(scope="module")
def gen() -> SyntheticMammograms:
    return SyntheticMammograms(image_size=96, seed=3)


@pytest.mark.parametrize("size, shape", [(64, (64, 64)), ((80, 64), (80, 64))])
def test_shape_dtype_range(size, shape):
    item = SyntheticMammograms(size)[4]
    assert item.image.shape == item.mask.shape == shape
    assert item.image.dtype == np.float32 and item.mask.dtype == np.uint8
    assert 0.0 <= item.image.min() and item.image.max() <= 1.0


def test_image_depends_only_on_seed_and_index(gen):
    again = SyntheticMammograms(image_size=96, seed=3)
    np.testing.assert_array_equal(gen[7].image, again[7].image)
    assert not np.array_equal(gen[7].image, SyntheticMammograms(image_size=96, seed=4)[7].image)


def test_women_have_cc_and_mlo_of_one_breast_and_classes_cycle(gen):
    metas = [gen[i].meta for i in range(6)]
    assert [m["label"] for m in metas] == [0, 0, 1, 1, 2, 2]
    assert [m["view"] for m in metas] == ["CC", "MLO"] * 3
    for k in range(3):
        a, b = metas[2 * k], metas[2 * k + 1]
        assert a["patient_id"] == b["patient_id"] and a["laterality"] == b["laterality"]
    assert len({m["patient_id"] for m in metas}) == 3


@pytest.mark.parametrize("index, lesion", [(0, False), (1, False), (2, True), (3, True), (4, True), (5, True)])
def test_mask_only_for_lesions(gen, index, lesion):
    item = gen[index]
    assert bool(item.mask.any()) is lesion
    if lesion:  # the lesion lies in the breast
        assert item.image[item.mask > 0].min() > 0.05


def test_chest_wall_side_follows_laterality():
    gen = SyntheticMammograms(64, seed=0, markers=False)
    for index in range(0, 24, 2):
        item = gen[index]
        left, right = item.image[:, :8].mean(), item.image[:, -8:].mean()
        assert (left > right) == (item.meta["laterality"] == "L")


def test_pectoral_muscle_only_on_mlo():
    gen = SyntheticMammograms(64, seed=1, markers=False)
    for group in range(4):
        cc, mlo = gen[2 * group], gen[2 * group + 1]
        wall = slice(0, 3) if cc.meta["laterality"] == "L" else slice(-3, None)
        # the bright muscle fills the upper chest-wall corner of the MLO; the CC has at most thin tissue there
        assert mlo.image[:3, wall].mean() > 0.5 and mlo.image[:3, wall].mean() > cc.image[:3, wall].mean() + 0.3


def test_power_law_spectrum_slope():
    noise = power_law_noise(np.random.default_rng(0), (128, 128), beta=3.0)
    power = np.abs(np.fft.fft2(noise)) ** 2
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(128), np.fft.fftfreq(128)))
    band = (f > 0.02) & (f < 0.3)
    slope = np.polyfit(np.log(f[band]), np.log(power[band]), 1)[0]
    assert slope == pytest.approx(-3.0, abs=0.25)


def test_global_statistics_do_not_tell_classes_apart():
    """Nearest-centroid on mean/std/percentiles/histogram, leave-one-out: near chance (1/3)."""
    gen = SyntheticMammograms(64, seed=11)
    items = [gen[i] for i in range(120)]
    flat = np.stack([it.image.ravel() for it in items])
    hist = np.stack([np.histogram(x, 16, (0, 1))[0] for x in flat]) / flat.shape[1]
    feats = np.concatenate(
        [flat.mean(1, keepdims=True), flat.std(1, keepdims=True), np.percentile(flat, [5, 25, 50, 75, 95], 1).T, hist],
        1,
    )
    feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-8)
    labels = np.array([it.label for it in items])
    correct = 0
    for i in range(len(items)):
        keep = np.arange(len(items)) != i
        centroids = np.stack([feats[keep & (labels == c)].mean(0) for c in range(3)])
        correct += int(np.argmin(((centroids - feats[i]) ** 2).sum(1)) == labels[i])
    assert correct / len(items) < 0.5


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"image_size": 0}, "image_size"),
        ({"image_size": (64,)}, "image_size"),
        ({"image_size": "big"}, "image_size"),
        ({"lesion_contrast": (0.2, 0.1)}, "lesion_contrast"),
        ({"lesion_radius": (0.0, 0.1)}, "lesion_radius"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SyntheticMammograms(**kwargs)


def test_negative_index():
    with pytest.raises(ValueError, match="index"):
        SyntheticMammograms(64)[-1]
