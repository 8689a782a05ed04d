"""Lesion masks from point annotations, and patch labels from them (lesion-patch pretraining).

MIAS annotates each lesion by a centre and the radius of a circle enclosing it (Suckling et al., 1994); the
datalist keeps them as ``centers`` (``[row, col]`` array coordinates of the stored image) and ``radii``.
:class:`LesionMaskd` draws them as a mask carrying the image's metadata, so that the image's own spatial
transforms (laterality flip, breast crop, resize, random crops) move both alike; :class:`CentreLabeld` then labels
a patch by the lesion mask at its centre. MONAI has neither: its crops sample centres from a label image, but
nothing turns circle annotations into one, and no transform reads a label from a cropped mask.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform

from monai_mammo.utils import MammoKeys

from .utils import check_image

__all__ = ["CentreLabel", "CentreLabeld", "LesionMask", "LesionMaskd"]


def _mask_like(img: NdarrayOrTensor, mask: torch.Tensor) -> NdarrayOrTensor:
    """``mask`` (``(1, H, W)`` bool) as uint8 of ``img``'s kind: a MetaTensor with its metadata, tensor or array."""
    out = mask.as_tensor() if isinstance(mask, MetaTensor) else mask
    out = out.to(torch.uint8)
    if isinstance(img, MetaTensor):
        return MetaTensor(out, meta=dict(img.meta), applied_operations=list(img.applied_operations))
    return out if isinstance(img, torch.Tensor) else out.numpy()


class LesionMask(Transform):
    """A ``(1, H, W)`` uint8 mask of the annotated lesions of ``img``: 1 inside each circle (centre ``[row, col]``,
    radius, in ``img``'s pixels), 0 elsewhere; a MetaTensor with ``img``'s metadata when ``img`` is one.

    Args:
        radius_scale: each radius multiplied by it (MIAS's circles enclose the lesion; < 1 keeps the core).
        min_radius: radii below it (pixels) are raised to it, so a tiny annotation still marks its centre.

    Raises:
        ValueError: ``radius_scale`` not positive, ``min_radius`` negative; at call, ``centers`` and ``radii`` of
            different lengths, a centre that is not two numbers or lies outside the image, a radius not positive.
    """

    def __init__(self, radius_scale: float = 1.0, min_radius: float = 1.0) -> None:
        if not radius_scale > 0:
            raise ValueError(f"LesionMask: radius_scale must be > 0, got {radius_scale}.")
        if min_radius < 0:
            raise ValueError(f"LesionMask: min_radius must be >= 0, got {min_radius}.")
        self.radius_scale, self.min_radius = float(radius_scale), float(min_radius)

    def __call__(
        self,
        img: NdarrayOrTensor,
        centers: Sequence[Sequence[float]] | None = None,
        radii: Sequence[float] | None = None,
    ) -> NdarrayOrTensor:
        check_image(img, "LesionMask: img")
        height, width = (int(s) for s in img.shape[-2:])
        centers, radii = list(centers or []), list(radii or [])
        if len(centers) != len(radii):
            raise ValueError(f"LesionMask: {len(centers)} centres but {len(radii)} radii; expected one radius each.")
        rows, cols = np.ogrid[:height, :width]
        mask = np.zeros((height, width), dtype=bool)
        for center, radius in zip(centers, radii, strict=True):
            if len(center) != 2:
                raise ValueError(f"LesionMask: a centre is [row, col], got {center!r}.")
            row, col = float(center[0]), float(center[1])
            if not (0 <= row < height and 0 <= col < width):
                raise ValueError(f"LesionMask: centre {center!r} lies outside the {height} x {width} image.")
            if not float(radius) > 0:
                raise ValueError(f"LesionMask: a radius must be > 0, got {radius!r}.")
            r = max(float(radius) * self.radius_scale, self.min_radius)
            mask |= (rows - row) ** 2 + (cols - col) ** 2 <= r * r
        return _mask_like(img, torch.from_numpy(mask[None]))


class LesionMaskd(MapTransform):
    """Dictionary version of :class:`LesionMask`: the mask of ``keys[0]``'s lesions, written to ``mask_key``: from
    a lesion mask image the item already holds (``label_image_key``, e.g. the synthetic datasets' or BUSI's
    ``mask`` after loading it; nonzero = lesion), else from its ``centers_key`` and ``radii_key`` circles (absent
    or empty: no lesion).

    Args:
        keys: the image whose geometry the mask takes (one key).
        mask_key: where the mask goes.
        centers_key, radii_key: the item's annotation keys (the datalist's ``centers`` and ``radii``).
        radius_scale, min_radius: as in :class:`LesionMask`.
        label_image_key: an item key that may hold a loaded lesion mask image of the image's size (None: circles
            only).
        allow_missing_keys: do nothing when the image is missing.

    Raises:
        ValueError: more than one key; at call, a bad annotation or a mask image of another size (the message
            names the image's file).
    """

    def __init__(
        self,
        keys: KeysCollection,
        mask_key: str = "lesion",
        centers_key: str = "centers",
        radii_key: str = "radii",
        radius_scale: float = 1.0,
        min_radius: float = 1.0,
        label_image_key: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1:
            raise ValueError(f"LesionMaskd: one image key gives the mask its geometry, got {list(self.keys)}.")
        self.mask_key, self.centers_key, self.radii_key = mask_key, centers_key, radii_key
        self.label_image_key = label_image_key
        self.masker = LesionMask(radius_scale, min_radius)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            try:
                given = d.get(self.label_image_key) if self.label_image_key is not None else None
                if isinstance(given, (np.ndarray, torch.Tensor)):
                    d[self.mask_key] = self._from_image(d[key], given)
                else:
                    d[self.mask_key] = self.masker(d[key], d.get(self.centers_key), d.get(self.radii_key))
            except ValueError as e:
                meta = getattr(d[key], "meta", {}) or {}
                name = meta.get(MammoKeys.FILENAME, key)
                raise ValueError(f"{name}: {e}") from None
        return d

    @staticmethod
    def _from_image(img: NdarrayOrTensor, given: NdarrayOrTensor) -> NdarrayOrTensor:
        if tuple(given.shape[-2:]) != tuple(img.shape[-2:]):
            raise ValueError(
                f"LesionMaskd: the lesion mask image is {tuple(given.shape[-2:])}, the image {tuple(img.shape[-2:])}."
            )
        return _mask_like(img, (torch.as_tensor(given).reshape(-1, *given.shape[-2:]) > 0).any(0, keepdim=True))


class CentreLabel(Transform):
    """The label of a patch: 1 when its ``(C, H, W)`` mask is set at the patch's centre pixel (``H // 2``,
    ``W // 2``, the centre MONAI's random crops place a sampled point at), else 0."""

    def __call__(self, mask: NdarrayOrTensor) -> int:
        check_image(mask, "CentreLabel: mask")
        height, width = (int(s) for s in mask.shape[-2:])
        return int(bool((mask[..., height // 2, width // 2] > 0).any()))


class CentreLabeld(MapTransform):
    """Dictionary version of :class:`CentreLabel`: ``label_key`` set from the mask at ``keys``.

    Args:
        keys: the (cropped) mask, one key.
        label_key: where the label goes (it replaces the item's own, e.g. the whole image's class).
        allow_missing_keys: do nothing when the mask is missing.
    """

    def __init__(
        self, keys: KeysCollection, label_key: str = MammoKeys.LABEL, allow_missing_keys: bool = False
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1:
            raise ValueError(f"CentreLabeld: one mask key gives the label, got {list(self.keys)}.")
        self.label_key = label_key
        self.labeler = CentreLabel()

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[self.label_key] = self.labeler(d[key])
        return d
