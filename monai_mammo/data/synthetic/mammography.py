"""Synthetic mammograms with the three classes: normal, benign (round, circumscribed) and malignant (spiculated).

Each synthetic woman has two images of one breast, CC and MLO; the class is hers. What is drawn:

- the breast: a semi-ellipse against the chest wall with a randomly wavy outline, a thin skin line, and the
  thickness fall-off towards the edge; image laterality ``L`` has the chest wall on the left (column 0),
  ``R`` is the mirror image;
- the parenchyma: Gaussian power-law noise with a ``1/f**beta`` spectrum, ``beta ~ 3`` (Burgess et al.,
  Med. Phys. 2001; Heine and Velthuizen, Med. Phys. 2002), thresholded softly into fibroglandular tissue whose
  amount falls towards the nipple, with a density varying between women;
- the pectoral muscle: a bright, slightly curved triangle in the upper chest-wall corner on MLO views only;
- lesions: benign masses are oval with a sharp margin (and sometimes a few coarse round calcifications);
  malignant ones are irregular with a blurred margin and radiating spicules (and often a cluster of fine
  pleomorphic calcifications); normal images have none;
- a laterality/view marker in the corner opposite the chest wall (as on film, for the breast-crop transform).

The lesion's size and contrast are random (radius 10-14 % of the side, peak contrast 0.5-0.7: a mass stays visible,
and round or spiculated, at 32 px), and the lesion image is remapped onto the
histogram of the same image drawn without the lesion (:func:`~monai_mammo.data.synthetic.common.match_histogram`):
the global intensity statistics carry no class information, only the local shape does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

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

__all__ = ["SyntheticMammograms"]

IMAGES_PER_WOMAN = 2  # CC and MLO of one breast
FIELD_MM = 240.0  # height of the synthetic detector field


def _check_range(value: Sequence[float], name: str, low: float, high: float) -> tuple[float, float]:
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        raise ValueError(f"{name} must be a pair (min, max) with {low} <= min <= max <= {high}, got {value!r}.")
    return float(value[0]), float(value[1])


class SyntheticMammograms:
    """A deterministic, endless sequence of synthetic mammograms: ``gen[i]`` is image ``i``.

    Images ``2k`` (CC) and ``2k + 1`` (MLO) show the same breast of synthetic woman ``k``, whose class cycles
    normal, benign, malignant with ``k``. Image ``i`` depends only on ``seed`` and ``i``.

    Args:
        image_size: ``S`` or ``(H, W)`` in pixels (32 to 8192).
        seed: the dataset seed.
        lesion_contrast: range of the mass's peak contrast, in units of the image range before remapping.
        lesion_radius: range of the mass radius as a fraction of the shorter image side.
        calcification_probability: probability of calcifications in a benign and in a malignant breast.
        markers: draw the laterality/view marker.

    Example:
        >>> gen = SyntheticMammograms(image_size=128, seed=0)
        >>> item = gen[5]
        >>> item.image.shape, item.meta["class_name"], item.meta["view"]
        ((128, 128), 'benign', 'MLO')
    """

    def __init__(
        self,
        image_size: int | Sequence[int] = 256,
        seed: int = 0,
        lesion_contrast: Sequence[float] = (0.5, 0.7),
        lesion_radius: Sequence[float] = (0.1, 0.14),
        calcification_probability: Sequence[float] = (0.3, 0.5),
        markers: bool = True,
    ) -> None:
        self.image_size = normalize_image_size(image_size)
        self.seed = int(seed)
        self.lesion_contrast = _check_range(lesion_contrast, "lesion_contrast", 0.0, 1.0)
        self.lesion_radius = _check_range(lesion_radius, "lesion_radius", 0.005, 0.3)
        self.calcification_probability = _check_range(calcification_probability, "calcification_probability", 0, 1)
        self.markers = markers

    def __getitem__(self, index: int) -> SyntheticImage:
        if index < 0:
            raise ValueError(f"index must be >= 0, got {index}.")
        group, member = divmod(int(index), IMAGES_PER_WOMAN)
        woman = self._draw_woman(image_rng(self.seed, Modality.MG, group, 0), class_of_group(group))
        view = View.CC if member == 0 else View.MLO
        rng = image_rng(self.seed, Modality.MG, group, 1 + member)
        image, mask = self._draw_image(rng, woman, view)
        meta = {
            MammoKeys.LABEL.value: BreastClass.label_of(woman["class"]),
            "class_name": str(woman["class"]),
            MammoKeys.MODALITY.value: Modality.MG.value,
            MammoKeys.LATERALITY.value: woman["laterality"],
            MammoKeys.VIEW.value: view.value,
            MammoKeys.PATIENT_ID.value: f"SYN-MG-{group:05d}",
            "index": int(index),
            "seed": self.seed,
            "pixel_spacing": (FIELD_MM / self.image_size[0],) * 2,
            "breast_density": woman["density"],
        }
        return SyntheticImage(image=image, mask=mask, meta=meta)

    def _draw_woman(self, rng: np.random.Generator, cls: BreastClass) -> dict[str, Any]:
        """What both views of one breast share."""
        p_benign, p_malignant = self.calcification_probability
        p_calc = {BreastClass.NORMAL: 0.0, BreastClass.BENIGN: p_benign, BreastClass.MALIGNANT: p_malignant}[cls]
        return {
            "class": cls,
            "laterality": str(rng.choice([Laterality.LEFT.value, Laterality.RIGHT.value])),
            "depth": rng.uniform(0.6, 0.88),
            "height": rng.uniform(0.36, 0.46),
            "density": float(rng.uniform(-1.0, 0.8)),
            "beta": rng.uniform(2.8, 3.2),
            "radius": rng.uniform(*self.lesion_radius),
            "contrast": rng.uniform(*self.lesion_contrast),
            "calcifications": bool(rng.random() < p_calc),
        }

    def _draw_image(self, rng: np.random.Generator, woman: dict[str, Any], view: View) -> tuple[np.ndarray, np.ndarray]:
        h, w = self.image_size
        y, x = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
        # breast outline: semi-ellipse on the chest wall (x = 0), taller upwards on MLO (towards the axilla)
        a = w * woman["depth"] * rng.uniform(0.95, 1.05)
        b_down = h * woman["height"] * rng.uniform(0.95, 1.05)
        cy = h * (rng.uniform(0.46, 0.54) if view == View.CC else rng.uniform(0.4, 0.5))
        b_up = b_down * (1.0 if view == View.CC else rng.uniform(1.3, 1.6))
        yn = (y - cy) / np.where(y < cy, b_up, b_down)
        xn = x / a
        rho = np.sqrt(xn * xn + yn * yn) / random_contour(rng, np.arctan2(yn, xn), rng.uniform(0.02, 0.05), (2, 5))
        scale = min(a, b_down)  # pixels per unit of rho near the edge
        edge_px = (1.0 - rho) * scale
        breast = smoothstep(edge_px + 0.5)
        # parenchyma: 1/f^beta texture, softly thresholded; glandular tissue thins out towards the nipple
        texture = power_law_noise(rng, (h, w), woman["beta"])
        gland_weight = 1.0 - smoothstep((rho - 0.2) / 0.8)
        gland = 1.0 / (1.0 + np.exp(-2.2 * (texture + woman["density"] + 1.8 * (gland_weight - 0.6))))
        thickness = 0.45 + 0.55 * smoothstep((1.0 - rho) / 0.3)
        fine = power_law_noise(rng, (h, w), 1.5)
        tissue = thickness * (0.3 + 0.45 * gland + 0.02 * fine) + 0.07 * np.exp(-((edge_px / 1.2) ** 2))
        background = tissue * breast
        pectoral = np.zeros((h, w), np.float32)
        if view == View.MLO:
            pw, ph = w * rng.uniform(0.22, 0.4), h * rng.uniform(0.45, 0.8)
            q = x / pw + y / ph + rng.uniform(-0.3, 0.3) * (x / pw) * (y / ph)
            pectoral = smoothstep((1.0 - q) * min(pw, ph) / 1.5 + 0.5) * breast
            level = rng.uniform(0.72, 0.85) + 0.04 * power_law_noise(rng, (h, w), 3.0)
            background = background * (1.0 - pectoral) + level * pectoral
        background = background + rng.normal(0.0, 0.008, (h, w)).astype(np.float32) * breast
        mask = np.zeros((h, w), np.uint8)
        image = background
        if woman["class"] != BreastClass.NORMAL:
            # masses are drawn where they can be seen: not in the densest tissue (nor in the muscle)
            valid = (rho < 0.7) & (x > 0.12 * w) & (pectoral < 0.05) & (gland < 0.5)
            candidates = np.flatnonzero(valid) if valid.any() else np.flatnonzero(breast > 0.5)
            cy_l, cx_l = divmod(int(rng.choice(candidates)), w)
            radius = woman["radius"] * min(h, w) * rng.uniform(0.9, 1.1)
            lesion, mask = _mass(rng, (h, w), cy_l + 0.5, cx_l + 0.5, radius, woman["class"] == BreastClass.MALIGNANT)
            lesion *= woman["contrast"]
            if woman["calcifications"]:
                lesion = np.maximum(lesion, _calcifications(rng, (h, w), cy_l + 0.5, cx_l + 0.5, radius, woman))
            image = match_histogram(background + lesion * breast, background)
        image = np.clip(image, 0.0, 1.0)
        if woman["laterality"] == Laterality.RIGHT.value:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if self.markers:
            image = _draw_marker(image, f"{woman['laterality']} {view.value}", woman["laterality"])
        return np.ascontiguousarray(image, dtype=np.float32), np.ascontiguousarray(mask)


def _window(shape: tuple[int, int], cy: float, cx: float, half: float) -> tuple[slice, slice]:
    y0, y1 = max(int(cy - half), 0), min(int(cy + half) + 1, shape[0])
    x0, x1 = max(int(cx - half), 0), min(int(cx + half) + 1, shape[1])
    return slice(y0, y1), slice(x0, x1)


def _mass(
    rng: np.random.Generator, shape: tuple[int, int], cy: float, cx: float, radius: float, malignant: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Profile in [0, 1] and mask of a mass: oval and sharp (benign) or irregular, blurred and spiculated."""
    profile = np.zeros(shape, np.float32)
    mask = np.zeros(shape, np.uint8)
    sy, sx = _window(shape, cy, cx, radius * 3.6 + 3)
    y, x = np.mgrid[sy, sx].astype(np.float32) + 0.5
    dy, dx = y - cy, x - cx
    phi = rng.uniform(0, np.pi)
    aspect = rng.uniform(0.65, 0.95) if not malignant else rng.uniform(0.8, 1.0)
    u = (dx * np.cos(phi) + dy * np.sin(phi)) / radius
    v = (-dx * np.sin(phi) + dy * np.cos(phi)) / (radius * aspect)
    theta = np.arctan2(v, u)
    if malignant:  # irregular (low harmonics, seen at any resolution), margin blurred over a fraction of the radius
        contour, edge = random_contour(rng, theta, rng.uniform(0.3, 0.45), (3, 7)), radius * rng.uniform(0.12, 0.2)
    else:
        contour, edge = random_contour(rng, theta, rng.uniform(0.0, 0.06), (2, 4)), rng.uniform(0.5, 0.9)
    rn = np.sqrt(u * u + v * v) / contour
    core = smoothstep((1.0 - rn) * radius / edge + 0.5)
    local = core * (0.75 + 0.25 * np.sqrt(np.clip(1.0 - rn * rn, 0.0, 1.0)))
    if malignant:  # spicules: tapering lines radiating from the mass, their width a fraction of its radius
        for _ in range(int(rng.integers(6, 13))):
            alpha = rng.uniform(0, 2 * np.pi)
            length = radius * rng.uniform(2.0, 3.5)
            ux, uy = np.cos(alpha), np.sin(alpha)
            along = dx * ux + dy * uy
            across = np.abs(-dx * uy + dy * ux)
            t = np.clip(along / length, 0.0, 1.0)
            base = max(radius * rng.uniform(0.2, 0.3), 0.6)
            width = base * (1.0 - t) + 0.3 * base * t
            line = np.exp(-((across / width) ** 2)) * (1.0 - 0.5 * t) * (along > 0) * (along < length)
            local = np.maximum(local, rng.uniform(0.7, 1.0) * line)
    profile[sy, sx] = local
    mask[sy, sx] = (rn < 1.0).astype(np.uint8)
    return profile, mask


def _calcifications(
    rng: np.random.Generator, shape: tuple[int, int], cy: float, cx: float, radius: float, woman: dict[str, Any]
) -> np.ndarray:
    """Bright specks: a tight cluster of fine pleomorphic ones (malignant) or a few coarse round ones (benign)."""
    malignant = woman["class"] == BreastClass.MALIGNANT
    px = min(shape) / 256.0  # sizes are given for a 256-pixel image
    if malignant:
        n, spread, sizes, amp = int(rng.integers(6, 16)), 0.8 * radius, (0.35, 0.8), (0.12, 0.25)
    else:
        n, spread, sizes, amp = int(rng.integers(2, 5)), 1.8 * radius, (0.9, 1.6), (0.12, 0.2)
    out = np.zeros(shape, np.float32)
    sy, sx = _window(shape, cy, cx, spread + 6 * px + 3)
    y, x = np.mgrid[sy, sx].astype(np.float32) + 0.5
    local = np.zeros(y.shape, np.float32)
    for _ in range(n):
        r = spread * np.sqrt(rng.random())
        a = rng.uniform(0, 2 * np.pi)
        py, px_ = cy + r * np.sin(a), cx + r * np.cos(a)
        s1 = max(rng.uniform(*sizes) * px, 0.35)
        s2 = s1 * (rng.uniform(0.3, 1.0) if malignant else rng.uniform(0.85, 1.0))  # pleomorphic vs round
        phi = rng.uniform(0, np.pi)
        u = (x - px_) * np.cos(phi) + (y - py) * np.sin(phi)
        v = -(x - px_) * np.sin(phi) + (y - py) * np.cos(phi)
        local = np.maximum(local, rng.uniform(*amp) * np.exp(-0.5 * ((u / s1) ** 2 + (v / s2) ** 2)))
    out[sy, sx] = local
    return out


def _draw_marker(image: np.ndarray, text: str, laterality: str) -> np.ndarray:
    """A film-style marker (e.g. ``"L CC"``) in the upper corner away from the chest wall."""
    h, w = image.shape
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    left, _, right, _ = draw.textbbox((0, 0), text)
    margin = max(2, w // 64)
    x0 = w - (right - left) - 2 * margin if laterality == Laterality.LEFT.value else margin
    draw.text((x0, margin), text, fill=240)
    return np.maximum(image, np.asarray(canvas, np.float32) / 255.0)
