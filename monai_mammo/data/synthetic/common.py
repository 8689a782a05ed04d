"""Building blocks shared by the synthetic mammography and ultrasound generators.

Everything here is plain numpy (FFT noise, smooth random contours, histogram matching) so that an
image takes a few milliseconds on one core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monai_mammo.utils import BreastClass, Modality

__all__ = [
    "SyntheticImage",
    "class_of_group",
    "image_rng",
    "match_histogram",
    "normalize_image_size",
    "power_law_noise",
    "random_contour",
    "smoothstep",
]

# stream ids of the seed sequences, so that MG image i and US image i never share random numbers
_MODALITY_STREAM = {Modality.MG: 1, Modality.US: 2}


@dataclass
class SyntheticImage:
    """One synthetic image.

    Attributes:
        image: float32 array of shape (H, W) with values in [0, 1] (brighter = denser tissue for
            mammography, more echogenic for ultrasound).
        mask: uint8 array of shape (H, W), 1 on the lesion (all zeros for a normal image).
        meta: metadata: ``label`` (int), ``class_name``, ``modality``, ``laterality``, ``view``,
            ``patient_id``, ``index``, ``pixel_spacing`` (mm, row then column) and generator details.
    """

    image: np.ndarray
    mask: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> int:
        """The integer class (``BreastClass``: normal=0, benign=1, malignant=2)."""
        return int(self.meta["label"])


def normalize_image_size(image_size: int | Sequence[int], name: str = "image_size") -> tuple[int, int]:
    """Check an image size given as ``S`` or ``(H, W)`` and return ``(H, W)``.

    Raises:
        ValueError: when a side is not an integer in [32, 8192].
    """
    if isinstance(image_size, (int, np.integer)):
        sizes: list = [image_size] * 2
    else:
        sizes = list(image_size) if isinstance(image_size, (Sequence, np.ndarray)) else []
    if len(sizes) != 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
        raise ValueError(f"{name} must be an int or a pair of ints (height, width), got {image_size!r}.")
    if not all(32 <= int(s) <= 8192 for s in sizes):
        raise ValueError(f"{name} sides must be between 32 and 8192 pixels, got {image_size!r}.")
    return int(sizes[0]), int(sizes[1])


def image_rng(seed: int, modality: Modality | str, group: int, member: int = 0) -> np.random.Generator:
    """The random generator of one image, a function of the seed and the image's place only.

    Image ``member`` of synthetic woman ``group`` is therefore the same whatever the dataset size.
    """
    stream = _MODALITY_STREAM[Modality(modality)]
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(stream, int(group), int(member))))


def class_of_group(group: int) -> BreastClass:
    """The class of synthetic woman ``group``: classes cycle, so any run of 3 women is balanced."""
    return list(BreastClass)[group % len(BreastClass)]


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Hermite smoothstep of ``x`` clipped to [0, 1]: 0 below 0, 1 above 1, smooth in between."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def power_law_noise(rng: np.random.Generator, shape: tuple[int, int], beta: float = 3.0) -> np.ndarray:
    """Gaussian noise whose power spectrum falls as ``1 / f**beta``, zero mean and unit std.

    ``beta`` close to 3 matches the anatomical noise of mammograms (Burgess et al., "Human observer detection
    experiments with mammograms and power-law noise", Med. Phys. 28(4), 2001).
    """
    white = rng.standard_normal(shape)
    spectrum = np.fft.rfft2(white)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0 / max(shape)  # no infinite DC term; the mean is removed below anyway
    noise = np.fft.irfft2(spectrum * f ** (-beta / 2.0), s=shape)
    noise -= noise.mean()
    return (noise / (noise.std() + 1e-12)).astype(np.float32)


def random_contour(
    rng: np.random.Generator, theta: np.ndarray, amplitude: float, harmonics: tuple[int, int] = (2, 6)
) -> np.ndarray:
    """A smooth random radius factor, ``1 + sum over k of a_k cos(k theta + phi_k)``, around a closed contour.

    Args:
        rng: the generator.
        theta: angles (any shape).
        amplitude: the total amplitude (sum of the absolute ``a_k``); 0 gives a perfect ellipse.
        harmonics: the lowest and highest harmonic used.
    """
    ks = np.arange(harmonics[0], harmonics[1] + 1)
    weights = rng.uniform(0.3, 1.0, size=ks.size) / ks
    weights *= amplitude / weights.sum()
    phases = rng.uniform(0, 2 * np.pi, size=ks.size)
    out = np.ones_like(theta, dtype=np.float32)
    for k, a, p in zip(ks, weights, phases, strict=True):
        out += (a * np.cos(k * theta + p)).astype(np.float32)
    return out


def match_histogram(image: np.ndarray, reference: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """Give ``image`` exactly the grey-level histogram of ``reference`` while keeping its pixel order.

    The generators draw each image twice, with and without its lesion, and map the lesion image onto the
    lesion-free one's histogram: a monotone remapping keeps every local shape cue, while mean, standard
    deviation, percentiles and histogram no longer depend on the class. (skimage's ``match_histograms``
    interpolates between quantiles and so does not give an exact match; an exact rank mapping is one argsort.)

    Args:
        image: the image to remap.
        reference: an image of the same shape whose values are taken.
        region: optional boolean mask; only the pixels inside are remapped (others keep ``image``'s values).
    """
    out = image.copy()
    if region is None:
        region = np.ones(image.shape, dtype=bool)
    values = image[region]
    order = np.argsort(values, kind="stable")
    remapped = np.empty_like(values)
    remapped[order] = np.sort(reference[region])
    out[region] = remapped
    return out
