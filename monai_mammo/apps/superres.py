"""What the SR bundle (``bundles/mammo_srgan``) checks at start and the files its inference reads."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from monai.networks.layers.factories import Norm
from monai.transforms.utils_morphological_ops import erode

from monai_mammo.losses import PixelCriterion

__all__ = [
    "SR_LR_SCHEDULES",
    "SR_PATCH_REGIONS",
    "SUPPORTED_SCALES",
    "check_fits_image_size",
    "check_sr_settings",
    "generator_norm",
    "patch_centre_mask",
    "shave_border",
    "sr_inference_files",
]


SUPPORTED_SCALES = (2, 4)
SR_LR_SCHEDULES = ("constant", "cosine")
SR_PATCH_REGIONS = ("breast", "interior")


def check_sr_settings(
    scale_factor: int,
    patch_size: int | Sequence[int] | None = None,
    supported_scales: Sequence[int] = SUPPORTED_SCALES,
    pixel_criterion: str | None = None,
    g_norm: str | tuple | None = None,
    lr_schedule: str | None = None,
    patch_region: str | None = None,
) -> bool:
    """Check the SR bundle's settings at start, with messages naming the setting (run from ``initialize``).

    The dataset folder and datalist are checked by :func:`~monai_mammo.data.ensure_dataset`.

    Args:
        scale_factor: the upscaling factor; one of ``supported_scales``.
        patch_size: HR training patch side(s); each a positive multiple of ``scale_factor``.
        supported_scales: allowed factors.
        pixel_criterion: the pretraining loss, one of :class:`~monai_mammo.losses.PixelCriterion` (not checked if None).
        g_norm: the generator's normalisation, a MONAI ``Norm`` name or ``"none"`` (not checked if None).
        lr_schedule: the generator's learning-rate schedule, one of :data:`SR_LR_SCHEDULES` (not checked if None).
        patch_region: where training patches are centred, one of :data:`SR_PATCH_REGIONS` (not checked if None).

    Returns:
        True (so that it can be a config expression).

    Raises:
        ValueError: a scale factor not supported, a patch size not a positive multiple of it, an unknown pixel
            criterion, normalisation, schedule or patch region.
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
    criteria = [str(c) for c in PixelCriterion]
    if pixel_criterion is not None and str(pixel_criterion).lower() not in criteria:
        raise ValueError(f"pixel_criterion must be one of {criteria}, got {pixel_criterion!r}.")
    if g_norm is not None:
        generator_norm(g_norm)
    if lr_schedule is not None and lr_schedule not in SR_LR_SCHEDULES:
        raise ValueError(f"g_lr_schedule must be one of {list(SR_LR_SCHEDULES)}, got {lr_schedule!r}.")
    if patch_region is not None and patch_region not in SR_PATCH_REGIONS:
        raise ValueError(f"patch_region must be one of {list(SR_PATCH_REGIONS)}, got {patch_region!r}.")
    return True


def generator_norm(g_norm: str | tuple | None) -> str | tuple | None:
    """The SR bundle's ``g_norm`` as the generator's ``norm`` argument: None for ``"none"`` (or null), else the
    MONAI ``Norm`` name or ``(name, kwargs)`` unchanged.

    Raises:
        ValueError: a name that is neither none nor one of MONAI's norms.
    """
    if g_norm is None or str(g_norm).lower() in ("none", "null"):
        return None
    name = g_norm[0] if isinstance(g_norm, (tuple, list)) else g_norm
    try:
        Norm[str(name), 2]
    except (KeyError, ValueError, TypeError) as e:
        names = sorted(n.lower() for n in Norm.names)
        raise ValueError(f"g_norm must be none or one of MONAI's norms {names}, got {g_norm!r}.") from e
    return g_norm


def check_fits_image_size(image: torch.Tensor, image_size: int) -> torch.Tensor:
    """``image`` (``(C, *spatial)``) unchanged if no side exceeds ``image_size``, else a ValueError naming its file.

    With ``keep_resolution`` the SR bundle only pads the breast crop to ``image_size``; a larger crop would need
    resizing, which full-resolution SR must not do silently.
    """
    shape = tuple(int(s) for s in image.shape[1:])
    if max(shape) > image_size:
        meta = getattr(image, "meta", {}) or {}
        name = meta.get("filename_or_obj", "an image")
        raise ValueError(
            f"{name}: its breast crop is {shape} pixels, larger than image_size={image_size}; with keep_resolution "
            f"true, give an image_size of at least {max(shape)} (or keep_resolution false to resize)."
        )
    return image


def patch_centre_mask(mask: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Where a ``patch_size`` training patch can be centred with all of it inside the breast: ``mask``
    (``(C, H, W)``) eroded by a ``(patch_size + 1)``-pixel square (the SR bundle's ``patch_region: interior``).

    The erosion also eats in from the image edges, so a patch never holds the chest-wall border of the crop. A
    breast too small to hold a whole patch keeps its mask (patches then centred anywhere in the breast) rather
    than none: MONAI's crop would otherwise centre them in the background.

    Raises:
        ValueError: a ``patch_size`` below 1.
    """
    if int(patch_size) < 1:
        raise ValueError(f"patch_size must be >= 1, got {patch_size!r}.")
    size = int(patch_size) + 1 - int(patch_size) % 2  # the next odd size (erode's filters are odd)
    inside = erode((mask > 0).float()[None], size, pad_value=0.0)[0]
    return inside.to(mask.dtype) if bool(inside.any()) else mask


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
