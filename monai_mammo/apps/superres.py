"""What the SR bundle (``bundles/mammo_srgan``) checks at start and the files its inference reads."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

__all__ = ["SUPPORTED_SCALES", "check_sr_settings", "shave_border", "sr_inference_files"]


SUPPORTED_SCALES = (2, 4)


def check_sr_settings(
    scale_factor: int, patch_size: int | Sequence[int] | None = None, supported_scales: Sequence[int] = SUPPORTED_SCALES
) -> bool:
    """Check the SR bundle's settings at start, with messages naming the setting (run from ``initialize``).

    The dataset folder and datalist are checked by :func:`~monai_mammo.data.ensure_dataset`.

    Args:
        scale_factor: the upscaling factor; one of ``supported_scales``.
        patch_size: HR training patch side(s); each a positive multiple of ``scale_factor``.
        supported_scales: allowed factors.

    Returns:
        True (so that it can be a config expression).

    Raises:
        ValueError: a scale factor not supported, a patch size not a positive multiple of it.
    """
    if isinstance(scale_factor, bool) or int(scale_factor) != scale_factor or int(scale_factor) not in supported_scales:
        raise ValueError(
            f"scale_factor must be one of {tuple(supported_scales)} (the generator upsamples by powers of 2), "
            f"got {scale_factor!r}."
        )
    scale = int(scale_factor)
    if patch_size is not None:
        sizes = [int(patch_size)] if isinstance(patch_size, (int, float)) else [int(s) for s in patch_size]
        if any(s <= 0 or s % scale for s in sizes):
            raise ValueError(f"patch_size must be positive multiples of scale_factor={scale}, got {patch_size!r}.")
    return True


def shave_border(mask: torch.Tensor, width: int) -> torch.Tensor:
    """``mask`` (``(C, H, W)``) with ``width`` pixels along every image edge set to 0 (a copy).

    Standard SR evaluation "shaves" the border: upsampling has no context beyond the image edge, and where the
    breast meets the edge (the chest wall) bicubic's border handling makes errors far larger than inside the
    tissue, which then dominate a masked PSNR. Used on the validation masks of the SR bundle (``metric_border``).

    Raises:
        ValueError: a negative ``width``.
    """
    if width < 0:
        raise ValueError(f"width (pixels shaved off the mask's border) must be >= 0, got {width}.")
    out = mask.clone()
    if width:
        out[..., :width, :] = 0
        out[..., -width:, :] = 0
        out[..., :, :width] = 0
        out[..., :, -width:] = 0
    return out


def sr_inference_files(
    input_dir: str | os.PathLike | None, items: Sequence[dict] = (), image_key: str = "image"
) -> list[dict[str, str]]:
    """The items to super-resolve: every visible file of ``input_dir``, or else the images of ``items``.

    Raises:
        FileNotFoundError: ``input_dir`` is not a folder, or holds no files.
    """
    if not input_dir:
        return [{image_key: str(item[image_key])} for item in items]
    folder = Path(input_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"input_dir {os.fspath(folder)!r} is not a folder of images.")
    files = [{image_key: str(p)} for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]
    if not files:
        raise FileNotFoundError(f"input_dir {os.fspath(folder)!r} holds no files.")
    return files
