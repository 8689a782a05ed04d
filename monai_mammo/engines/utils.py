"""Shared pieces of the super-resolution engines: output keys, phases, batch preparation, autocast."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.engines.utils import PrepareBatch
from monai.utils import StrEnum, ensure_tuple

__all__ = [
    "SRKeys",
    "SRPhase",
    "SRPrepareBatch",
    "autocast_context",
]


class SRKeys(StrEnum):
    """Keys of ``engine.state.output`` (and metric names) specific to super-resolution.

    The SR engines also use MONAI's keys: ``CommonKeys.IMAGE`` (the LR input), ``LABEL`` (the HR target),
    ``PRED`` (the SR output), ``LOSS`` (the generator's total loss), and ``AdversarialKeys``
    (``RECONSTRUCTION_LOSS`` = content loss, ``GENERATOR_LOSS`` = adversarial term, ``DISCRIMINATOR_LOSS``,
    ``REAL_LOGITS``, ``FAKE_LOGITS``).
    """

    MASK = "mask"
    PHASE = "phase"
    BASELINE = "baseline"
    PSNR = "psnr"
    SSIM = "ssim"
    PSNR_BASELINE = "psnr_bicubic"
    SSIM_BASELINE = "ssim_bicubic"
    PSNR_GAIN = "psnr_gain_db"
    SSIM_GAIN = "ssim_gain"


class SRPhase(StrEnum):
    """Training phase of :class:`~monai_mammo.engines.SRGANTrainer`."""

    PRETRAIN = "pretrain"  # generator only, pixel loss
    GAN = "gan"  # discriminator step, then generator step with content + beta * adversarial loss


class SRPrepareBatch(PrepareBatch):
    """Take ``(lr, hr, mask)`` from a batch and move them to the device.

    Args:
        lr_key: key of the low-resolution input in dictionary batches.
        hr_key: key of the high-resolution target, or several keys tried in order (default ``"hr"`` then
            ``"image"``).
        mask_key: key of the optional mask (e.g. the breast mask at HR size); ``None`` to ignore masks.

    Dictionary batches need ``lr_key`` and one of ``hr_key``; the mask is ``None`` when its key is absent.
    Sequence batches are ``(lr, hr)`` or ``(lr, hr, mask)``.
    """

    def __init__(
        self, lr_key: str = "lr", hr_key: str | Sequence[str] = ("hr", "image"), mask_key: str | None = "mask"
    ) -> None:
        self.lr_key = lr_key
        self.hr_keys = ensure_tuple(hr_key)
        self.mask_key = mask_key

    def __call__(
        self,
        batchdata: Any,
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        if isinstance(batchdata, dict):
            if self.lr_key not in batchdata:
                raise KeyError(f"the batch has no LR image under lr_key={self.lr_key!r}; keys: {sorted(batchdata)}.")
            hr_key = next((k for k in self.hr_keys if k in batchdata), None)
            if hr_key is None:
                raise KeyError(f"the batch has no HR image under any of {self.hr_keys}; keys: {sorted(batchdata)}.")
            lr, hr = batchdata[self.lr_key], batchdata[hr_key]
            mask = batchdata.get(self.mask_key) if self.mask_key is not None else None
        elif isinstance(batchdata, (list, tuple)) and len(batchdata) in (2, 3):
            lr, hr = batchdata[0], batchdata[1]
            mask = batchdata[2] if len(batchdata) == 3 else None
        else:
            raise TypeError(f"a batch must be a dict or a (lr, hr[, mask]) sequence, got {type(batchdata).__name__}.")

        def move(x: Any) -> Any:
            return x.to(device=device, non_blocking=non_blocking, **kwargs) if isinstance(x, torch.Tensor) else x

        return move(lr), move(hr), move(mask)


def autocast_context(enabled: bool, amp_kwargs: dict | None = None) -> Any:
    """``torch.autocast("cuda")`` when ``enabled``, else a no-op context (mixed precision only on CUDA)."""
    return torch.autocast("cuda", enabled=enabled, **(amp_kwargs or {}))
