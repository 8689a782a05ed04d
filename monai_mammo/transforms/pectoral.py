"""Pectoral-muscle suppression on MLO mammograms: find the bright triangle in the upper chest-wall corner."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends
from monai.utils.type_conversion import convert_to_dst_type, convert_to_tensor
from scipy import ndimage as ndi

from monai_mammo.utils import MammoKeys, View

from .utils import as_2d_numpy, breast_mask, check_image, chest_wall_side

__all__ = ["PectoralLine", "SuppressPectoralMuscle", "SuppressPectoralMuscled", "find_pectoral_line"]

PECTORAL_KEY = "pectoral_removed"


@dataclass
class PectoralLine:
    """The pectoral boundary as the segment from ``(top, x_top)`` to ``(y_wall, wall)`` in full-size pixels
    (chest wall on the left; columns counted from the chest-wall side), with its edge contrast."""

    top: float
    x_top: float
    y_wall: float
    wall: float
    contrast: float

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """The triangle between the line and the corner ``(top, wall)`` as a boolean ``(H, W)`` mask."""
        yy = np.arange(shape[0], dtype=np.float32)[:, None] - self.top
        xx = np.arange(shape[1], dtype=np.float32)[None, :] - self.wall
        a, b = max(self.x_top - self.wall, 1e-6), max(self.y_wall - self.top, 1e-6)
        return (xx / a + yy / b <= 1.0) & (yy >= 0) & (xx >= 0)


def find_pectoral_line(arr: np.ndarray, mask: np.ndarray, max_size: int = 256, offset: float = 3.0) -> PectoralLine:
    """Find the pectoral boundary of an MLO mammogram ``arr`` (2D, chest wall on the LEFT) inside ``mask``.

    Our own search, as scikit-image has no pectoral detector and a Hough transform on the edges locks on the
    dense tissue: on a copy of at most ``max_size`` pixels, every straight line from the top edge (10-80% of the
    breast width) to the chest-wall edge (10-90% of its height) steeper than ~40 degrees is scored by the mean
    intensity difference just inside (corner side) minus just outside the line, on a 1-99 percentile window;
    the best line wins. Lines whose outer side leaves the breast mask are rejected.
    """
    stride = max(1, int(np.ceil(max(arr.shape) / max_size)))
    s = ndi.gaussian_filter(arr[::stride, ::stride].astype(np.float32), 1.0)
    m = mask[::stride, ::stride]
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    if rows.size == 0:
        raise ValueError("the breast mask is empty; cannot look for the pectoral muscle.")
    top, left = float(rows[0]), float(cols[0])
    h, w = rows[-1] - top + 1.0, cols[-1] - left + 1.0
    lo, hi = np.percentile(s[m], [1, 99])
    s = (s - lo) / max(hi - lo, 1e-6)
    x0, y1 = np.meshgrid(left + np.linspace(0.1, 0.8, 36) * w, top + np.linspace(0.1, 0.9, 41) * h, indexing="ij")
    x0, y1 = x0.ravel(), y1.ravel()
    t = np.linspace(0.1, 0.9, 60)[None]
    py, px = top + t * (y1[:, None] - top), x0[:, None] + t * (left - x0[:, None])
    ny, nx = x0 - left, y1 - top  # normal of the line, pointing away from the corner
    norm = np.hypot(ny, nx)
    ny, nx = (ny / norm)[:, None], (nx / norm)[:, None]
    inside = ndi.map_coordinates(s, [py - offset * ny, px - offset * nx], order=1, mode="nearest")
    outside = ndi.map_coordinates(s, [py + offset * ny, px + offset * nx], order=1, mode="nearest")
    in_breast = ndi.map_coordinates(m.astype(np.float32), [py + offset * ny, px + offset * nx], order=0)
    steep = (y1 - top) / np.maximum(x0 - left, 1.0)
    valid = (in_breast.mean(1) > 0.9) & (steep > 0.8) & (steep < 8.0)
    score = np.where(valid, (inside - outside).mean(1), -np.inf)
    i = int(np.argmax(score))
    return PectoralLine(top * stride, x0[i] * stride, y1[i] * stride, left * stride, float(score[i]))


class SuppressPectoralMuscle(Transform):
    """Set the pectoral muscle of an MLO mammogram to the background value; CC views pass unchanged.

    The chest-wall side is found from the tissue (works before or after :class:`FlipToStandardLaterality`);
    the muscle is the triangle between the upper chest-wall corner and the boundary line found by
    :func:`find_pectoral_line`. A detection is kept only if its edge contrast is at least ``min_contrast`` and
    its area is ``min_fraction``..``max_fraction`` of the breast; otherwise the image is returned unchanged
    (``meta["pectoral_removed"] = False``, and a warning).

    Args:
        view: ``"MLO"``/``"CC"`` to force the view; ``None`` reads ``meta["view"]`` (images without a view are
            treated as MLO only when ``assume_mlo``).
        fill_value: the value written in the muscle (``None``: the image minimum).
        min_contrast: the least mean edge contrast (in units of the breast's 1-99 percentile range).
        min_fraction: the least muscle area as a fraction of the breast mask.
        max_fraction: the largest muscle area as a fraction of the breast mask.
        return_mask: return ``(image, mask)``, the mask ``(1, H, W)`` float 0/1 of the input's type.
        assume_mlo: treat images without view metadata as MLO.

    Raises:
        ValueError: a bad argument, or an empty / constant / NaN image.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        view: str | None = None,
        fill_value: float | None = 0.0,
        min_contrast: float = 0.1,
        min_fraction: float = 0.005,
        max_fraction: float = 0.3,
        return_mask: bool = False,
        assume_mlo: bool = False,
    ) -> None:
        if view is not None and str(view).upper() not in (View.CC, View.MLO):
            raise ValueError(f"view must be None, 'CC' or 'MLO', got {view!r}.")
        if not 0.0 <= min_fraction < max_fraction <= 1.0:
            raise ValueError(f"need 0 <= min_fraction < max_fraction <= 1, got {min_fraction}, {max_fraction}.")
        self.view = None if view is None else str(view).upper()
        self.fill_value, self.min_contrast = fill_value, float(min_contrast)
        self.min_fraction, self.max_fraction = float(min_fraction), float(max_fraction)
        self.return_mask, self.assume_mlo = bool(return_mask), bool(assume_mlo)

    def is_mlo(self, img: NdarrayOrTensor) -> bool:
        if self.view is not None:
            return self.view == View.MLO
        view = str(img.meta.get(MammoKeys.VIEW, "")).upper() if isinstance(img, MetaTensor) else ""
        return view == View.MLO or (view not in (View.CC, View.MLO) and self.assume_mlo)

    def pectoral_mask(self, img: NdarrayOrTensor) -> np.ndarray:
        """The boolean ``(H, W)`` pectoral mask of ``img`` (all False when none is found)."""
        check_image(img)
        arr = as_2d_numpy(img)
        breast = breast_mask(arr)
        flip = chest_wall_side(arr, breast) == "R"
        a, b = (arr[:, ::-1], breast[:, ::-1]) if flip else (arr, breast)
        line = find_pectoral_line(a, b)
        pec = line.mask(a.shape) & b
        fraction = pec.sum() / max(b.sum(), 1)
        if line.contrast < self.min_contrast or not self.min_fraction <= fraction <= self.max_fraction:
            warnings.warn(
                f"no plausible pectoral muscle found (edge contrast {line.contrast:.3f}, area {fraction:.1%} of the "
                "breast); image left unchanged.",
                stacklevel=3,
            )
            pec[:] = False
        return np.ascontiguousarray(pec[:, ::-1]) if flip else pec

    def __call__(self, img: NdarrayOrTensor):
        """Suppress the pectoral muscle of ``img`` (C, H, W); ``(image, mask)`` when ``return_mask``."""
        if self.is_mlo(img):
            pec = self.pectoral_mask(img)
        else:
            check_image(img)
            pec = np.zeros(img.shape[-2:], dtype=bool)
        out = convert_to_tensor(img, track_meta=True)
        if pec.any():
            fill = float(out.min()) if self.fill_value is None else self.fill_value
            out = out.masked_fill(torch.as_tensor(pec, device=out.device), fill)
        if isinstance(out, MetaTensor):
            out.meta[PECTORAL_KEY] = bool(pec.any())
        out = out if isinstance(img, torch.Tensor) else convert_to_dst_type(out, img)[0]
        if not self.return_mask:
            return out
        mask = convert_to_dst_type(pec[None].astype(np.float32), img, dtype=torch.float32)[0]
        if isinstance(mask, MetaTensor) and isinstance(img, MetaTensor):
            mask.meta = dict(img.meta)
        return out, mask


class SuppressPectoralMuscled(MapTransform):
    """Dictionary version of :class:`SuppressPectoralMuscle`: the muscle is found on ``keys[0]`` (or
    ``source_key``), filled in every key, and the mask written to ``mask_key`` when given.

    Args:
        keys: images to suppress the muscle in.
        view, fill_value, min_contrast, min_fraction, max_fraction, assume_mlo: as in
            :class:`SuppressPectoralMuscle`.
        source_key: the image the muscle is found on (default: the first key).
        mask_key: if given, the pectoral mask is stored under this key.
        allow_missing_keys: do not raise for a missing key.
    """

    backend = SuppressPectoralMuscle.backend

    def __init__(
        self,
        keys: KeysCollection,
        view: str | None = None,
        fill_value: float | None = 0.0,
        min_contrast: float = 0.1,
        min_fraction: float = 0.005,
        max_fraction: float = 0.3,
        assume_mlo: bool = False,
        source_key: str | None = None,
        mask_key: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.suppressor = SuppressPectoralMuscle(
            view, fill_value, min_contrast, min_fraction, max_fraction, return_mask=True, assume_mlo=assume_mlo
        )
        self.source_key, self.mask_key = source_key, mask_key

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        keys = list(self.key_iterator(d))
        src = self.source_key if self.source_key is not None else (keys[0] if keys else None)
        if src is None:
            return d
        d[src], mask = self.suppressor(d[src])
        pec = as_2d_numpy(mask).astype(bool)
        for key in keys:
            if key == src or not pec.any():
                continue
            out = convert_to_tensor(d[key], track_meta=True)
            fill = float(out.min()) if self.suppressor.fill_value is None else self.suppressor.fill_value
            out = out.masked_fill(torch.as_tensor(pec, device=out.device), fill)
            d[key] = out if isinstance(d[key], torch.Tensor) else convert_to_dst_type(out, d[key])[0]
        if self.mask_key is not None:
            d[self.mask_key] = mask
        return d
