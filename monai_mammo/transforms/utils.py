"""Helpers shared by the mammography transforms: input checks, downsampled breast masks, chest-wall side."""

from __future__ import annotations

import numpy as np
import torch
from monai.config import NdarrayOrTensor
from monai.data import MetaTensor
from monai.utils.type_conversion import convert_data_type
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

__all__ = [
    "as_2d_numpy",
    "breast_mask",
    "breast_mask_small",
    "check_image",
    "chest_wall_side",
    "largest_component",
    "mask_bbox",
    "small_mask_bbox",
    "upsample_mask",
]


def check_image(img: NdarrayOrTensor, name: str = "img") -> None:
    """Raise ``ValueError`` for an empty image or one holding NaN / infinite values; ``TypeError`` for other types."""
    if not isinstance(img, (np.ndarray, torch.Tensor)):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(img).__name__}.")
    if img.ndim < 2 or any(s == 0 for s in img.shape):
        raise ValueError(f"{name} must be a non-empty channel-first image (C, H, W), got shape {tuple(img.shape)}.")
    if isinstance(img, torch.Tensor):  # a plain tensor: MetaTensor's __torch_function__ costs 30x here
        t = img.as_tensor() if isinstance(img, MetaTensor) else img
        # min/max propagate NaN and show inf, without a full-size boolean temporary
        finite = bool(torch.isfinite(torch.stack(torch.aminmax(t))).all()) if t.is_floating_point() else True
    else:
        finite = bool(np.isfinite([img.min(), img.max()]).all()) if np.issubdtype(img.dtype, np.floating) else True
    if not finite:
        raise ValueError(f"{name} holds NaN or infinite values; clean the image before this transform.")


def as_2d_numpy(img: NdarrayOrTensor) -> np.ndarray:
    """The first channel of a channel-first image ``(C, H, W)`` (or a 2D ``(H, W)`` image) as a numpy array."""
    arr = convert_data_type(img, np.ndarray)[0]
    if arr.ndim == 3:
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f"expected a 2D image (C, H, W) or (H, W), got shape {tuple(arr.shape)}.")
    return np.asarray(arr)


def _stride_for(shape: tuple[int, ...], max_size: int | None) -> int:
    if not max_size:
        return 1
    return max(1, int(np.ceil(max(shape) / max_size)))


def largest_component(mask: np.ndarray, fill_holes: bool = True) -> np.ndarray:
    """The largest 8-connected component of a boolean 2D mask (holes filled); all False if the mask is empty."""
    labels, n = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    out = labels == int(np.argmax(sizes))
    return ndi.binary_fill_holes(out) if fill_holes else out


def breast_mask_small(
    img: NdarrayOrTensor, max_size: int | None = 512, threshold: float | None = None
) -> tuple[np.ndarray, int]:
    """``(mask, stride)``: the breast mask of ``img[::stride, ::stride]`` (see :func:`breast_mask`)."""
    full = as_2d_numpy(img)
    stride = _stride_for(full.shape, max_size)
    small = full[::stride, ::stride].astype(np.float32)
    if not np.isfinite(small).all():
        raise ValueError("the image holds NaN or infinite values; cannot compute a breast mask.")
    if small.size == 0 or float(small.max()) == float(small.min()):
        raise ValueError("the image is constant (or empty); cannot compute a breast mask.")
    small = ndi.uniform_filter(small, size=3)
    t = float(threshold_otsu(small)) if threshold is None else float(threshold)
    fg = small > t
    opened = ndi.binary_opening(fg, structure=np.ones((3, 3), dtype=bool), iterations=2)
    return largest_component(opened if opened.any() else fg), stride


def upsample_mask(small: np.ndarray, stride: int, start: list[int], end: list[int]) -> np.ndarray:
    """The full-resolution (nearest-neighbour) mask of the box ``start:end`` from a mask with ``stride``."""
    if stride == 1:
        return small[start[0] : end[0], start[1] : end[1]]
    r0, c0 = start[0] // stride, start[1] // stride
    r1, c1 = -(-end[0] // stride), -(-end[1] // stride)
    big = np.repeat(np.repeat(small[r0:r1, c0:c1], stride, axis=0), stride, axis=1)  # faster than fancy indexing
    return big[start[0] - r0 * stride : end[0] - r0 * stride, start[1] - c0 * stride : end[1] - c0 * stride]


def breast_mask(img: NdarrayOrTensor, max_size: int | None = 512, threshold: float | None = None) -> np.ndarray:
    """Boolean breast mask ``(H, W)`` of a mammogram (bright = dense, background dark).

    Otsu's threshold (or ``threshold``) on a copy downsampled by an integer stride so that its longer side is at
    most ``max_size`` (``None``: full resolution), a small opening that cuts thin bridges to film labels and edge
    markers, the largest connected component, hole filling, then nearest-neighbour upsampling to full size.
    The mask of a 512-px copy is as good for cropping as the full-resolution one, and ~50x faster.

    Raises:
        ValueError: the image is constant or holds NaN.
    """
    small, stride = breast_mask_small(img, max_size, threshold)
    shape = img.shape[-2:]
    return small if stride == 1 else upsample_mask(small, stride, [0, 0], [int(shape[0]), int(shape[1])])


def small_mask_bbox(small: np.ndarray, stride: int, shape: tuple[int, ...], margin: int = 0):
    """``(start, end)`` in full-size pixels of the box of a mask computed with ``stride``, widened by ``margin``."""
    start, end = mask_bbox(small, 0)
    start = [max(start[0] * stride - margin, 0), max(start[1] * stride - margin, 0)]
    end = [min(end[0] * stride + margin, int(shape[-2])), min(end[1] * stride + margin, int(shape[-1]))]
    return start, end


def mask_bbox(mask: np.ndarray, margin: int = 0) -> tuple[list[int], list[int]]:
    """``(start, end)`` of the bounding box of a 2D boolean mask, widened by ``margin`` and clipped to the image."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("the mask is empty: no breast tissue found (is the image blank?).")
    start = [max(int(rows[0]) - margin, 0), max(int(cols[0]) - margin, 0)]
    end = [min(int(rows[-1]) + 1 + margin, mask.shape[0]), min(int(cols[-1]) + 1 + margin, mask.shape[1])]
    return start, end


def chest_wall_side(img: NdarrayOrTensor, mask: np.ndarray | None = None) -> str:
    """``"L"`` if the chest wall (the side where the breast tissue lies) is on the image's left, else ``"R"``.

    Compares the tissue mass (sum of intensities above the background inside the breast mask) of the two halves.
    """
    arr = as_2d_numpy(img)
    stride = _stride_for(arr.shape, 512)
    small = arr[::stride, ::stride].astype(np.float64)
    if mask is not None:
        small = small * mask[::stride, ::stride]
    small = small - small.min()
    half = small.shape[1] // 2
    return "L" if small[:, :half].sum() >= small[:, small.shape[1] - half :].sum() else "R"
