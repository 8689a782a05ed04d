"""An in-memory synthetic dataset for MONAI pipelines: nothing is written to disk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from monai.transforms import apply_transform
from monai.utils import look_up_option
from torch.utils.data import Dataset

from monai_mammo.utils import MammoKeys, Modality

from .mammography import SyntheticMammograms
from .ultrasound import SyntheticUltrasounds

__all__ = ["SyntheticBreastDataset"]


class SyntheticBreastDataset(Dataset):
    """``num_images`` synthetic images of one modality as MONAI dictionaries, generated on access.

    Item ``i`` is ``{"image": (1, H, W) float32, "mask": (1, H, W) uint8, "label": int, "modality", "laterality",
    "view", "patient_id", ...}`` passed through ``transform``; it is the same at every access and in every worker.

    Args:
        num_images: the length (>= 1).
        modality: ``"MG"`` or ``"US"``.
        image_size: ``S`` or ``(H, W)``; default 256 for mammograms, 128 for ultrasound.
        seed: the dataset seed.
        transform: a callable (e.g. a MONAI ``Compose`` of dictionary transforms) applied to every item.
        generator_kwargs: further arguments of :class:`SyntheticMammograms` or :class:`SyntheticUltrasounds`.

    Example:
        >>> ds = SyntheticBreastDataset(6, modality="US", image_size=64)
        >>> ds[4]["image"].shape, ds[4]["label"]
        ((1, 64, 64), 2)
    """

    def __init__(
        self,
        num_images: int,
        modality: str = Modality.MG,
        image_size: int | Sequence[int] | None = None,
        seed: int = 0,
        transform: Callable | None = None,
        **generator_kwargs: Any,
    ) -> None:
        if not isinstance(num_images, (int, np.integer)) or isinstance(num_images, bool) or num_images < 1:
            raise ValueError(f"num_images must be an int >= 1, got {num_images!r}.")
        modality = look_up_option(modality, Modality)
        self.num_images = int(num_images)
        self.transform = transform
        self.generator: SyntheticMammograms | SyntheticUltrasounds
        if modality == Modality.MG:
            self.generator = SyntheticMammograms(image_size or 256, seed=seed, **generator_kwargs)
        else:
            self.generator = SyntheticUltrasounds(image_size or 128, seed=seed, **generator_kwargs)

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, index: int) -> Any:
        if not -self.num_images <= index < self.num_images:
            raise IndexError(f"index {index} is out of range for {self.num_images} images.")
        item = self.generator[index % self.num_images]
        data = {
            **item.meta,
            MammoKeys.IMAGE.value: item.image[None],
            MammoKeys.MASK.value: item.mask[None],
        }
        return apply_transform(self.transform, data) if self.transform is not None else data
