"""Crop a breast ultrasound image to its scan region, dropping the scanner's text, rulers and annotations."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data import MetaTensor
from monai.transforms import InvertibleTransform, MapTransform
from monai.transforms.croppad.array import Crop
from monai.utils.type_conversion import convert_to_dst_type, convert_to_tensor
from scipy import ndimage as ndi

from .utils import as_2d_numpy, check_image, largest_component, mask_bbox

__all__ = ["CropUltrasoundScan", "CropUltrasoundScand", "ultrasound_scan_mask"]

SCAN_BOX_KEY = "scan_box"


def ultrasound_scan_mask(
    img: NdarrayOrTensor, window: int = 9, min_level: float = 0.04, opening: int = 4
) -> np.ndarray:
    """Boolean ``(H, W)`` mask of the scan region of an ultrasound image (first channel).

    No library offers this, so: a pixel belongs to the scan when its local mean or local standard deviation
    (``window`` x ``window``) exceeds ``min_level`` times the image's 99th percentile (speckle is grey and
    textured, the surround is black); an opening of radius ``opening`` cuts the thin text strokes, ruler ticks
    and calipers off; the largest connected component with its holes filled is the scan (dark lesions and
    shadows inside it are holes), eroded by half a window to undo the filters' spread.
    """
    arr = as_2d_numpy(img).astype(np.float32)
    top = float(np.percentile(arr, 99))
    if top <= float(arr.min()):
        raise ValueError("the ultrasound image is constant (or nearly); cannot find the scan region.")
    arr = (arr - float(arr.min())) / (top - float(arr.min()))
    mean = ndi.uniform_filter(arr, window)
    std = np.sqrt(np.clip(ndi.uniform_filter(arr * arr, window) - mean * mean, 0, None))
    fg = (mean > min_level) | (std > min_level)
    if opening > 0:
        struct = np.ones((2 * opening + 1, 2 * opening + 1), dtype=bool)
        opened = ndi.binary_opening(fg, structure=struct)
        fg = opened if opened.any() else fg
    scan = largest_component(fg)
    # the local filters spread the region by half a window: take it back
    return (
        ndi.binary_erosion(scan, iterations=window // 2, border_value=1) if scan.sum() > 4 * window * window else scan
    )


class CropUltrasoundScan(Crop):
    """Crop a breast ultrasound image to the bounding box of its scan region (+ ``margin``).

    The scan region is found by :func:`ultrasound_scan_mask`; text and annotations beside it are cut off
    (small marks inside the box, such as calipers, are left as they are). Built on MONAI's ``Crop``: the affine
    is updated, the crop is tracked and invertible. The box ``[row0, col0, row1, col1]`` goes to
    ``meta["scan_box"]``.

    Args:
        margin: pixels kept around the scan's bounding box.
        window: side of the local mean / std window.
        min_level: threshold on the local mean / std, as a fraction of the 99th percentile.
        opening: radius of the opening that removes text strokes (0: none).
    """

    backend = Crop.backend

    def __init__(
        self, margin: int = 0, window: int = 9, min_level: float = 0.04, opening: int = 4, lazy: bool = False
    ) -> None:
        super().__init__(lazy=lazy)
        if margin < 0:
            raise ValueError(f"margin must be >= 0 pixels, got {margin}.")
        if window < 3:
            raise ValueError(f"window must be >= 3 pixels, got {window}.")
        if not 0.0 < min_level < 1.0:
            raise ValueError(f"min_level must be in (0, 1), got {min_level}.")
        if opening < 0:
            raise ValueError(f"opening must be >= 0, got {opening}.")
        self.margin, self.window, self.min_level, self.opening = int(margin), int(window), float(min_level), opening

    def compute_box(self, img: NdarrayOrTensor) -> tuple[list[int], list[int]]:
        """``(start, end)`` of the scan region's box in ``img`` (C, H, W)."""
        check_image(img)
        # colour images: the scan is grey, annotations are often coloured; the channel mean serves both
        arr = convert_to_tensor(img, track_meta=False).float().mean(0) if img.ndim == 3 else img
        mask = ultrasound_scan_mask(arr, self.window, self.min_level, self.opening)
        return mask_bbox(mask, self.margin)

    def crop_to(self, img: NdarrayOrTensor, start: list[int], end: list[int]) -> NdarrayOrTensor:
        """Crop ``img`` to ``start:end`` (tracked)."""
        slices = self.compute_slices(roi_start=start, roi_end=end)
        out = super().__call__(convert_to_tensor(img, track_meta=True), slices)
        if isinstance(out, MetaTensor):
            out.meta[SCAN_BOX_KEY] = [start[0], start[1], end[0], end[1]]
        return out if isinstance(img, torch.Tensor) else convert_to_dst_type(out, img)[0]

    def __call__(self, img: NdarrayOrTensor, lazy: bool | None = None) -> NdarrayOrTensor:  # type: ignore[override]
        start, end = self.compute_box(img)
        return self.crop_to(img, start, end)


class CropUltrasoundScand(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`CropUltrasoundScan`: the box comes from ``source_key`` (default: the first
    key) and every key (image and lesion masks) is cropped to it.

    Args:
        keys: keys to crop.
        source_key: the ultrasound image the scan region is found on.
        margin, window, min_level, opening: as in :class:`CropUltrasoundScan`.
        allow_missing_keys: do not raise for a missing key.
    """

    backend = CropUltrasoundScan.backend

    def __init__(
        self,
        keys: KeysCollection,
        source_key: str | None = None,
        margin: int = 0,
        window: int = 9,
        min_level: float = 0.04,
        opening: int = 4,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.cropper = CropUltrasoundScan(margin, window, min_level, opening)
        self.source_key = source_key

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        keys = list(self.key_iterator(d))
        src = self.source_key if self.source_key is not None else (keys[0] if keys else None)
        if src is None:
            return d
        start, end = self.cropper.compute_box(d[src])
        for key in keys:
            d[key] = self.cropper.crop_to(d[key], start, end)
        return d

    def inverse(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.cropper.inverse(d[key])  # type: ignore[arg-type]
        return d
