"""Synthetic breast ultrasound images with the three classes (normal, benign, malignant).

Each synthetic woman has two images (radial and antiradial planes) sharing her class and lesion. What is drawn:

- the scan region: a linear-probe rectangle or a trapezoid, black outside, with scanner text, a depth ruler and
  an orientation mark outside it (so that the ultrasound crop transform has something to remove);
- an echogenicity map with the breast's layers: skin, subcutaneous fat with hypoechoic fat lobules and bright
  Cooper's ligaments, the fibroglandular layer (1/f^3 texture), retromammary fat and striated pectoral muscle;
- depth attenuation partly compensated by the time-gain control, then fully developed speckle: the map
  multiplies the magnitude of a correlated complex Gaussian field (Rayleigh distributed), then log compression;
- lesions following BI-RADS US descriptors: benign = oval, parallel (wider than tall), circumscribed, hypoechoic,
  often with posterior enhancement; malignant = irregular, taller than wide, angular/spiculated margin, sometimes
  an echogenic halo, often posterior acoustic shadowing; normal = none.

As for the mammograms, the lesion image is remapped onto the histogram of the lesion-free image (same speckle), so
that global intensity statistics do not tell the classes apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter, gaussian_filter1d

from monai_mammo.utils import BreastClass, Laterality, MammoKeys, Modality, View

from .common import (
    SyntheticImage,
    class_of_group,
    image_rng,
    match_histogram,
    normalize_image_size,
    power_law_noise,
    random_contour,
    smoothstep,
)

__all__ = ["SyntheticUltrasounds"]

IMAGES_PER_WOMAN = 2  # radial and antiradial planes through the same spot
DEPTH_MM = 40.0  # imaging depth of the synthetic scan


class SyntheticUltrasounds:
    """A deterministic, endless sequence of synthetic breast ultrasound images: ``gen[i]`` is image ``i``.

    Images ``2k`` and ``2k + 1`` are two planes of synthetic woman ``k``, whose class cycles normal, benign,
    malignant with ``k``. Image ``i`` depends only on ``seed`` and ``i``.

    Args:
        image_size: ``S`` or ``(H, W)`` in pixels (32 to 8192).
        seed: the dataset seed.
        lesion_size: range of the lesion's width as a fraction of the scan width.
        sector_probability: probability of a trapezoid scan region instead of a linear rectangle.
        annotations: draw scanner text, depth ruler and orientation mark outside the scan region.

    Example:
        >>> gen = SyntheticUltrasounds(image_size=128, seed=0)
        >>> item = gen[4]
        >>> item.image.shape, item.meta["class_name"], int(item.mask.max())
        ((128, 128), 'malignant', 1)
    """

    def __init__(
        self,
        image_size: int | Sequence[int] = 128,
        seed: int = 0,
        lesion_size: Sequence[float] = (0.16, 0.32),
        sector_probability: float = 0.3,
        annotations: bool = True,
    ) -> None:
        self.image_size = normalize_image_size(image_size)
        self.seed = int(seed)
        if len(lesion_size) != 2 or not 0.01 <= lesion_size[0] <= lesion_size[1] <= 0.8:
            raise ValueError(f"lesion_size must be a pair (min, max) within [0.01, 0.8], got {lesion_size!r}.")
        if not 0.0 <= sector_probability <= 1.0:
            raise ValueError(f"sector_probability must be in [0, 1], got {sector_probability!r}.")
        self.lesion_size = (float(lesion_size[0]), float(lesion_size[1]))
        self.sector_probability = float(sector_probability)
        self.annotations = annotations

    def __getitem__(self, index: int) -> SyntheticImage:
        if index < 0:
            raise ValueError(f"index must be >= 0, got {index}.")
        group, member = divmod(int(index), IMAGES_PER_WOMAN)
        woman = self._draw_woman(image_rng(self.seed, Modality.US, group, 0), class_of_group(group))
        rng = image_rng(self.seed, Modality.US, group, 1 + member)
        image, mask, scan_height = self._draw_image(rng, woman)
        spacing = DEPTH_MM / scan_height
        meta = {
            MammoKeys.LABEL.value: BreastClass.label_of(woman["class"]),
            "class_name": str(woman["class"]),
            MammoKeys.MODALITY.value: Modality.US.value,
            MammoKeys.LATERALITY.value: woman["laterality"],
            MammoKeys.VIEW.value: View.UNKNOWN.value,
            "plane": "radial" if member == 0 else "antiradial",
            MammoKeys.PATIENT_ID.value: f"SYN-US-{group:05d}",
            "index": int(index),
            "seed": self.seed,
            "pixel_spacing": (spacing, spacing),
        }
        return SyntheticImage(image=image, mask=mask, meta=meta)

    def _draw_woman(self, rng: np.random.Generator, cls: BreastClass) -> dict[str, Any]:
        """What both planes share: laterality, layers, lesion size, echogenicity and posterior features."""
        return {
            "class": cls,
            "laterality": str(rng.choice([Laterality.LEFT.value, Laterality.RIGHT.value])),
            "clock": int(rng.integers(1, 13)),
            "fat_depth": rng.uniform(0.18, 0.32),
            "gland_depth": rng.uniform(0.6, 0.78),
            "size": rng.uniform(*self.lesion_size),
            "echo": rng.uniform(0.1, 0.3) if cls == BreastClass.BENIGN else rng.uniform(0.05, 0.25),
            "posterior": bool(rng.random() < (0.6 if cls == BreastClass.BENIGN else 0.75)),
            "halo": bool(cls == BreastClass.MALIGNANT and rng.random() < 0.5),
            "sector": bool(rng.random() < self.sector_probability),
        }

    def _draw_image(self, rng: np.random.Generator, woman: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, int]:
        h, w = self.image_size
        y, x = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
        top, bottom = round(h * rng.uniform(0.08, 0.14)), h - round(h * rng.uniform(0.0, 0.04))
        left, right = round(w * rng.uniform(0.05, 0.12)), w - round(w * rng.uniform(0.08, 0.14))
        depth = (y - top) / (bottom - top)
        xc, half1 = (left + right) / 2, (right - left) / 2
        half = half1 * (rng.uniform(0.55, 0.8) + (1 - rng.uniform(0.55, 0.8)) * depth) if woman["sector"] else half1
        half = np.broadcast_to(half, (h, w))
        scan = (depth >= 0) & (depth < 1) & (np.abs(x - xc) < half)
        lateral = (x - xc) / half  # -1 .. 1 across the scan
        px = min(h, w) / 128.0
        echo = self._layers(rng, woman, depth, lateral, px)
        attenuation = np.exp(-rng.uniform(1.0, 2.5) * rng.uniform(0.1, 0.6) * np.clip(depth, 0, 1))
        # fully developed speckle: magnitude of a complex Gaussian field blurred by the point spread function
        psf = (0.6 * px, 1.2 * px)  # axial resolution is finer than lateral
        field = gaussian_filter(rng.standard_normal((h, w)), psf) + 1j * gaussian_filter(
            rng.standard_normal((h, w)), psf
        )
        speckle = np.abs(field) / np.sqrt(np.mean(np.abs(field) ** 2))
        gain = rng.uniform(15, 40)

        def render(e: np.ndarray) -> np.ndarray:
            return (
                np.clip(np.log1p(gain * np.maximum(e, 0) * attenuation * speckle) / np.log1p(gain * 2.0), 0, 1) * scan
            )

        background = render(echo).astype(np.float32)
        mask = np.zeros((h, w), np.uint8)
        image = background
        if woman["class"] != BreastClass.NORMAL:
            echo, mask = _lesion(rng, woman, echo, depth, lateral, half1 * 2, scan)
            image = match_histogram(render(echo).astype(np.float32), background, scan)
        if self.annotations:
            image = _annotate(rng, image, woman, (top, bottom, left, right))
        return np.ascontiguousarray(image, dtype=np.float32), mask, bottom - top

    @staticmethod
    def _layers(
        rng: np.random.Generator, woman: dict[str, Any], depth: np.ndarray, lateral: np.ndarray, px: float
    ) -> np.ndarray:
        """Echogenicity map of skin, fat, fibroglandular tissue, retromammary fat and muscle."""
        h, w = depth.shape

        def wavy(base: float, amp: float) -> np.ndarray:
            wave = gaussian_filter1d(rng.standard_normal(w), w / 10, mode="wrap")
            return base + amp * wave / (np.abs(wave).max() + 1e-6)

        skin, gland = wavy(rng.uniform(0.03, 0.05), 0.005), wavy(woman["fat_depth"], 0.05)
        retro = wavy(woman["gland_depth"], 0.06)
        muscle = retro + rng.uniform(0.05, 0.1)
        texture = power_law_noise(rng, (h, w), 3.0)
        ligaments = np.exp(-((power_law_noise(rng, (h, w), 3.0) / 0.12) ** 2))
        lobules = smoothstep((power_law_noise(rng, (h, w), 3.5) - 0.6) * 3)
        striations = 0.5 + 0.5 * np.sin(2 * np.pi * depth * rng.uniform(25, 40) + 2 * texture)
        fat_echo = 0.3 - 0.15 * lobules + 0.45 * ligaments
        gland_echo = 0.6 + 0.2 * np.tanh(texture)
        muscle_echo = 0.3 + 0.25 * striations

        def above(boundary: np.ndarray) -> np.ndarray:  # 1 above the boundary, soft over ~1 pixel
            return smoothstep((boundary - depth) * h / (2 * px) + 0.5)

        echo = muscle_echo
        echo = echo + (0.22 - echo) * above(muscle)
        echo = echo + (gland_echo - echo) * above(retro)
        echo = echo + (fat_echo - echo) * above(gland)
        echo = echo + (0.9 - echo) * above(skin)
        return echo.astype(np.float32)


def _lesion(
    rng: np.random.Generator,
    woman: dict[str, Any],
    echo: np.ndarray,
    depth: np.ndarray,
    lateral: np.ndarray,
    scan_width: float,
    scan: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Put a hypoechoic lesion with its margin and posterior features into the echogenicity map."""
    h, w = echo.shape
    malignant = woman["class"] == BreastClass.MALIGNANT
    a = 0.5 * woman["size"] * scan_width * rng.uniform(0.9, 1.1)  # lateral half-width, pixels
    if malignant:
        a *= rng.uniform(0.7, 0.9)
        b, tilt = a * rng.uniform(1.1, 1.6), rng.uniform(-0.45, 0.45)
    else:
        b, tilt = a / rng.uniform(1.3, 2.0), rng.uniform(-0.25, 0.25)
    rows = np.flatnonzero(np.any(scan, axis=1))
    scan_h = rows.size
    cy_min, cy_max = (woman["fat_depth"] + 0.05) * scan_h + b, woman["gland_depth"] * scan_h
    cy = rows[0] + rng.uniform(min(cy_min, cy_max), max(cy_min, cy_max))
    cols = np.flatnonzero(scan[int(min(cy, rows[-1]))])
    cx = rng.uniform(cols[0] + a, cols[-1] - a) if cols.size > 2 * a + 2 else (cols[0] + cols[-1]) / 2
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    u = ((x - cx) * np.cos(tilt) + (y - cy) * np.sin(tilt)) / a
    v = (-(x - cx) * np.sin(tilt) + (y - cy) * np.cos(tilt)) / b
    theta = np.arctan2(v, u)
    if malignant:  # angular, spiculated margin: irregular contour plus sharp spikes
        contour = random_contour(rng, theta, rng.uniform(0.2, 0.35), (3, 9))
        for t0 in rng.uniform(0, 2 * np.pi, int(rng.integers(4, 10))):
            contour += rng.uniform(0.2, 0.6) * np.maximum(np.cos(theta - t0), 0) ** 40
        edge = rng.uniform(0.8, 1.5)
    else:
        contour, edge = random_contour(rng, theta, rng.uniform(0.0, 0.08), (2, 3)), rng.uniform(0.4, 0.7)
    rn = np.sqrt(u * u + v * v) / contour
    size = min(a, b)
    inside = smoothstep((1.0 - rn) * size / edge + 0.5)
    level = woman["echo"] * (1 + (0.3 if malignant else 0.1) * power_law_noise(rng, (h, w), 2.0))
    out = echo * (1 - inside) + level * inside
    if woman["halo"]:  # thick echogenic rim
        out += 0.35 * np.exp(-(((rn - 1.15) / 0.15) ** 2)) * (1 - inside)
    if woman["posterior"]:
        extent = np.abs(x - cx) < a * np.abs(np.cos(tilt)) + b * np.abs(np.sin(tilt))
        column = gaussian_filter(extent.astype(np.float32), 1.0) * smoothstep((y - cy) / b)
        factor = -rng.uniform(0.4, 0.75) if malignant else rng.uniform(0.25, 0.6)
        out = out * (1 + factor * column * (1 - inside))
    return out.astype(np.float32), (rn < 1.0).astype(np.uint8) * scan


def _annotate(rng: np.random.Generator, image: np.ndarray, woman: dict[str, Any], box: tuple[int, ...]) -> np.ndarray:
    """Scanner text above the scan, a depth ruler to its right and an orientation mark."""
    top, bottom, left, right = box
    h, w = image.shape
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    side = "RT" if woman["laterality"] == Laterality.RIGHT.value else "LT"
    draw.text((left, 0), f"{side} {woman['clock']}:00", fill=int(rng.integers(180, 256)))
    for k in range(5):  # ruler ticks every 10 mm
        yk = top + round(k * (bottom - top) / 4) - 1
        draw.line([(right + 2, yk), (right + 4 + (k % 2) * 2, yk)], fill=220)
    draw.rectangle([left, top - 4, left + 2, top - 2], fill=255)
    return np.maximum(image, np.asarray(canvas, np.float32) / 255.0)
