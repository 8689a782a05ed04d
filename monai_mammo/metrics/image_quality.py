"""Image quality inside a mask (PSNR, SSIM) and the bicubic baseline, for super-resolution validation.

A mammogram is mostly background; averaged over the whole image, PSNR and SSIM reward getting the empty air
right. Inside the breast mask they measure the tissue. MONAI's ``PSNRMetric`` and ``SSIMMetric`` average over
the whole image, so the masked versions are here; the SSIM map itself is MONAI's
(:func:`monai.metrics.regression.compute_ssim_and_cs`, Wang et al., "Image quality assessment: from error
visibility to structural similarity", IEEE TIP 13(4), 2004).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.metrics.regression import KernelType, compute_ssim_and_cs
from monai.utils import convert_to_dst_type, convert_to_tensor, ensure_tuple_rep, look_up_option

__all__ = ["bicubic_upsample", "masked_psnr", "masked_ssim"]


def _prepare(y_pred: Any, y: Any, mask: Any, data_range: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if not (isinstance(data_range, (int, float)) and data_range > 0):
        raise ValueError(f"data_range must be a positive number (max - min of the intensity scale), got {data_range}.")
    pred = convert_to_tensor(y_pred, dtype=torch.float64, track_meta=False)
    target = convert_to_tensor(y, dtype=torch.float64, track_meta=False)
    if pred.shape != target.shape:
        raise ValueError(f"y_pred and y must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}.")
    if pred.ndim not in (4, 5):
        raise ValueError(f"images must be batch-first, channel-first 2D or 3D (B, C, H, W[, D]), got {pred.shape}.")
    if mask is None:
        m = torch.ones_like(pred)
    else:
        m = convert_to_tensor(mask, track_meta=False).to(device=pred.device)
        same_layout = m.ndim == pred.ndim and m.shape[0] == pred.shape[0] and m.shape[2:] == pred.shape[2:]
        if not same_layout or m.shape[1] not in (1, pred.shape[1]):
            raise ValueError(
                f"mask must have shape (B, 1 or C, *spatial) matching the images {tuple(pred.shape)}, "
                f"got {tuple(m.shape)}."
            )
        m = (m > 0.5).to(torch.float64).expand_as(pred)
    return pred, target, m


def _to_output(values: torch.Tensor, like: Any) -> Any:
    if isinstance(like, np.ndarray):
        return values.cpu().numpy()
    return values.float()


def masked_psnr(y_pred: Any, y: Any, mask: Any = None, *, data_range: float) -> Any:
    """Peak signal-to-noise ratio per image, from the mean squared error inside the mask.

    PSNR = 10 log10(data_range^2 / MSE); ``inf`` for identical images, ``NaN`` for an empty mask.

    Args:
        y_pred: images ``(B, C, *spatial)``, numpy or torch.
        y: reference images of the same shape.
        mask: optional ``(B, 1 or C, *spatial)``; pixels with mask > 0.5 count. ``None``: the whole image.
        data_range: the span of the intensity scale (1.0 for images in [0, 1]); explicit, never guessed.

    Returns:
        ``(B,)`` values, numpy for numpy input, else a float tensor.
    """
    pred, target, m = _prepare(y_pred, y, mask, data_range)
    dims = tuple(range(1, pred.ndim))
    count = m.sum(dims)
    mse = ((pred - target) ** 2 * m).sum(dims) / count
    psnr = 10.0 * torch.log10(data_range**2 / mse)
    psnr = torch.where(count > 0, psnr, torch.full_like(psnr, float("nan")))
    return _to_output(psnr, y_pred)


def masked_ssim(
    y_pred: Any,
    y: Any,
    mask: Any = None,
    *,
    data_range: float,
    kernel_type: KernelType | str = KernelType.GAUSSIAN,
    win_size: int | Sequence[int] = 11,
    kernel_sigma: float | Sequence[float] = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> Any:
    """Mean SSIM per image over the mask.

    The SSIM map is computed where the whole window fits in the image (MONAI's valid convolution), and
    averaged over the mask cropped to that region and over channels. The map's value at a pixel comes from the
    window centred there, so near the mask's edge it also sees a few pixels outside the mask.

    Args:
        y_pred: images ``(B, C, *spatial)``, numpy or torch.
        y: reference images of the same shape.
        mask: optional ``(B, 1 or C, *spatial)``; ``None``: the whole image.
        data_range: the span of the intensity scale; explicit.
        kernel_type: ``"gaussian"`` (Wang et al.'s 11x11, sigma 1.5) or ``"uniform"``.
        win_size: odd window size, per spatial dimension or one for all.
        kernel_sigma: Gaussian sigma.
        k1: luminance stability constant.
        k2: contrast stability constant.

    Returns:
        ``(B,)`` values, numpy for numpy input, else a float tensor; ``NaN`` where the cropped mask is empty.
    """
    pred, target, m = _prepare(y_pred, y, mask, data_range)
    spatial_dims = pred.ndim - 2
    sizes = ensure_tuple_rep(win_size, spatial_dims)
    if any(int(k) % 2 == 0 or k < 1 for k in sizes) or any(k > s for k, s in zip(sizes, pred.shape[2:], strict=True)):
        raise ValueError(f"win_size must be odd and fit in the image {tuple(pred.shape[2:])}, got {sizes}.")
    ssim_map, _ = compute_ssim_and_cs(
        pred,
        target,
        spatial_dims=spatial_dims,
        kernel_size=sizes,
        kernel_sigma=ensure_tuple_rep(kernel_sigma, spatial_dims),
        data_range=data_range,
        kernel_type=look_up_option(kernel_type, KernelType),
        k1=k1,
        k2=k2,
    )
    crop = tuple(slice((k - 1) // 2, s - (k - 1) // 2) for k, s in zip(sizes, pred.shape[2:], strict=True))
    m = m[(slice(None), slice(None), *crop)].to(ssim_map.dtype)
    dims = tuple(range(1, pred.ndim))
    count = m.sum(dims)
    mean = (ssim_map * m).sum(dims) / count.clamp_min(1)
    mean = torch.where(count > 0, mean, torch.full_like(mean, float("nan")))
    return _to_output(mean, y_pred)


def bicubic_upsample(
    lr: Any,
    scale_factor: float | None = None,
    size: Sequence[int] | None = None,
    value_range: tuple[float, float] | None = None,
) -> Any:
    """The super-resolution baseline: bicubic upsampling (trilinear for 3D, as torch has no tricubic).

    Args:
        lr: low-resolution images ``(B, C, H, W[, D])``, numpy or torch.
        scale_factor: upsampling factor (exactly one of ``scale_factor`` and ``size``).
        size: output spatial size, e.g. the high-resolution image's.
        value_range: optional ``(low, high)`` to clip to; bicubic overshoots at edges.

    Returns:
        The upsampled images, of the input's type.
    """
    if (scale_factor is None) == (size is None):
        raise ValueError("give exactly one of scale_factor and size.")
    x = convert_to_tensor(lr, track_meta=False)
    if x.ndim not in (4, 5):
        raise ValueError(f"lr must be (B, C, H, W) or (B, C, H, W, D), got shape {tuple(x.shape)}.")
    dtype = x.dtype if x.is_floating_point() else torch.float32
    mode = "bicubic" if x.ndim == 4 else "trilinear"
    out = F.interpolate(
        x.to(dtype),
        size=None if size is None else tuple(int(s) for s in size),
        scale_factor=scale_factor,
        mode=mode,
        align_corners=False,
    )
    if value_range is not None:
        out = out.clamp(float(value_range[0]), float(value_range[1]))
    return convert_to_dst_type(out, lr, dtype=out.dtype)[0] if isinstance(lr, np.ndarray) else out
