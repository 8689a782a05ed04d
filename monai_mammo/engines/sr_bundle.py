"""Pieces of the super-resolution bundle (``bundles/mammo_srgan``): a bicubic-residual wrapper of the generator,
patch sampling inside the breast, argument checks at start, and an atomic writer of SR images.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from monai.utils import IgniteInfo, StrEnum, look_up_option, min_version, optional_import
from monai.utils.enums import CommonKeys as Keys

from monai_mammo.losses import PixelLoss, VGG19ContentLoss
from monai_mammo.utils import atomic_write

if TYPE_CHECKING:
    from ignite.engine import Engine, Events
else:
    Engine, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Engine")
    Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")
Image, _ = optional_import("PIL.Image")

__all__ = [
    "BicubicResidualSR",
    "ContentLoss",
    "SRImageFormat",
    "SRImageWriter",
    "check_sr_settings",
    "shave_border",
    "sr_content_loss",
    "sr_inference_files",
]

SUPPORTED_SCALES = (2, 4)


class BicubicResidualSR(nn.Module):
    """Super-resolution as bicubic upsampling plus a learned residual: ``out = bicubic(lr) + net(lr)``.

    Training the generator on the residual over bicubic (the global skip of VDSR, Kim et al., "Accurate image
    super-resolution using very deep convolutional networks", CVPR 2016) converges far faster than learning the
    whole image, which matters on a CPU budget. With ``zero_init`` the last conv of ``net`` starts at zero, so
    the untrained model *is* bicubic and training starts from the baseline it must beat. With
    ``residual=False`` the module returns ``net(lr)`` (the plain SRGAN generator of Ledig et al., 2017).

    Args:
        generator: LR -> SR network whose output has ``scale_factor`` times the input size (e.g.
            :class:`~monai_mammo.networks.nets.SRGANGenerator`).
        scale_factor: upscaling factor of ``generator``.
        residual: add the bicubic upsampling of the input to the generator's output.
        zero_init: set the weights and bias of the generator's last ``Conv`` layer to zero (only with
            ``residual=True``).

    Example:
        >>> from monai_mammo.networks.nets import SRGANGenerator
        >>> net = BicubicResidualSR(SRGANGenerator(scale_factor=2, num_channels=8, num_res_blocks=1), 2)
        >>> lr = torch.rand(1, 1, 8, 8)
        >>> torch.allclose(net(lr), F.interpolate(lr, scale_factor=2, mode="bicubic"))
        True
    """

    def __init__(self, generator: nn.Module, scale_factor: int, residual: bool = True, zero_init: bool = True) -> None:
        super().__init__()
        self.generator = generator
        self.scale_factor = int(scale_factor)
        self.residual = bool(residual)
        if self.residual and zero_init:
            last = [m for m in generator.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d))]
            if not last:
                raise ValueError("BicubicResidualSR: zero_init needs a generator with a Conv layer.")
            nn.init.zeros_(last[-1].weight)
            if last[-1].bias is not None:
                nn.init.zeros_(last[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.generator(x)
        if not self.residual:
            return out
        mode = "bicubic" if x.dim() == 4 else "trilinear"
        return out + F.interpolate(x, size=out.shape[2:], mode=mode, align_corners=False)


def check_sr_settings(
    scale_factor: int, patch_size: int | Sequence[int] | None = None, supported_scales: Sequence[int] = SUPPORTED_SCALES
) -> bool:
    """Check the SR bundle's settings at start, with messages naming the setting (run from ``initialize``).

    The dataset folder and datalist are checked by :func:`~monai_mammo.engines.bundle_data.ensure_dataset`.

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


class ContentLoss(StrEnum):
    """Content loss of the SR bundle's GAN phase (see :func:`sr_content_loss`)."""

    PIXEL = "pixel"  # pixel MSE: works offline, the PSNR-friendly choice
    VGG19 = "vgg19"  # VGG19 feature MSE (SRGAN's perceptual loss): needs a local weights file
    VGG19_RANDOM = "vgg19_random"  # VGG19 with random weights: the named fallback, weak, for smoke runs only


def sr_content_loss(
    name: str = ContentLoss.PIXEL, weights_path: str | os.PathLike | None = None, layer: str = "relu5_4"
) -> nn.Module:
    """The GAN-phase content loss chosen by name (a bundle hyperparameter).

    Args:
        name: ``"pixel"``, ``"vgg19"`` or ``"vgg19_random"`` (see :class:`ContentLoss`).
        weights_path: local torchvision VGG19 ImageNet weights (``vgg19-dcbb9e9d.pth``), needed by ``"vgg19"``.
        layer: VGG19 layer of the feature loss (``relu5_4``: SRGAN's VGG54; ``relu2_2``: VGG22).

    Raises:
        ValueError: an unknown name, or ``"vgg19"`` without ``weights_path`` (nothing is downloaded).
    """
    choice = ContentLoss(look_up_option(name, ContentLoss))
    if choice == ContentLoss.PIXEL:
        return PixelLoss("mse")
    if choice == ContentLoss.VGG19:
        if not weights_path:
            raise ValueError(
                "content_loss='vgg19' needs vgg19_weights, a local torchvision VGG19 file (vgg19-dcbb9e9d.pth); "
                "nothing is downloaded. Use content_loss='pixel' (default) or 'vgg19_random' (weak) without one."
            )
        return VGG19ContentLoss(layer=layer, weights_path=weights_path)
    return VGG19ContentLoss(layer=layer, fallback="random")


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


class SRImageFormat(StrEnum):
    """File format of :class:`SRImageWriter`."""

    PNG = "png"  # 16-bit grayscale PNG of value_range mapped to 0..65535
    NPY = "npy"  # float32 array (C, H, W)


class SRImageWriter:
    """Ignite handler writing each SR image of a batch to a file, atomically (temporary file + rename).

    At every ``ITERATION_COMPLETED`` it takes ``engine.state.output[output_key]`` (``(B, C, H, W)``) and, for
    file names, the source file of each item from ``engine.state.batch[name_key].meta["filename_or_obj"]``
    (its stem + ``suffix``), or a running index when there is none.

    Args:
        output_dir: folder of the files (created).
        output_key: key of the SR images in ``engine.state.output`` (a dict, or a list of per-item dicts).
        name_key: key of the batch whose metadata names the source files.
        file_format: ``"png"`` (16-bit, ``value_range`` mapped to 0..65535) or ``"npy"`` (float32).
        value_range: intensity range of the images, for PNG.
        suffix: appended to the source stem.

    Example:
        >>> SRImageWriter("out/sr").attach(evaluator)  # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir: str | os.PathLike,
        output_key: str = Keys.PRED,
        name_key: str = Keys.IMAGE,
        file_format: str = SRImageFormat.PNG,
        value_range: tuple[float, float] = (0.0, 1.0),
        suffix: str = "_sr",
    ) -> None:
        self.output_dir = Path(output_dir)
        self.output_key = output_key
        self.name_key = name_key
        self.file_format = SRImageFormat(look_up_option(file_format, SRImageFormat))
        low, high = (float(v) for v in value_range)
        if not high > low:
            raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}.")
        self.value_range = (low, high)
        self.suffix = suffix
        self.written: list[Path] = []
        self._count = 0

    def attach(self, engine: Engine) -> None:
        """Write at the end of every iteration of ``engine``."""
        if not engine.has_event_handler(self, Events.ITERATION_COMPLETED):
            engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def _images(self, output: Any) -> list[torch.Tensor]:
        if isinstance(output, dict):
            return list(torch.as_tensor(output[self.output_key]).detach().cpu())
        return [torch.as_tensor(item[self.output_key]).detach().cpu() for item in output]

    def _names(self, batch: Any, n: int) -> list[str]:
        names: list[str | None] = [None] * n
        source = batch.get(self.name_key) if isinstance(batch, dict) else None
        meta = getattr(source, "meta", None) or {}
        files = meta.get("filename_or_obj")
        if isinstance(files, (list, tuple)) and len(files) == n:
            names = [Path(str(f)).name.split(".")[0] if f else None for f in files]
        out = []
        for name in names:
            out.append(re.sub(r"[^\w.-]", "_", name) if name else f"image_{self._count:05d}")
            self._count += 1
        return out

    def write(self, image: torch.Tensor, stem: str) -> Path:
        """Write one ``(C, H, W)`` image as ``output_dir / (stem + suffix + .format)``; return the path."""
        path = self.output_dir / f"{stem}{self.suffix}.{self.file_format}"
        array = image.float().numpy()
        with atomic_write(path, "wb") as f:
            if self.file_format == SRImageFormat.NPY:
                np.save(f, array.astype(np.float32))
            else:
                low, high = self.value_range
                scaled = np.clip((array[0] - low) / (high - low), 0.0, 1.0) * 65535.0
                Image.fromarray(np.round(scaled).astype(np.uint16)).save(f, format="PNG")
        # the temporary file was created 0600; give group and others read access like a plain write
        os.chmod(path, os.stat(path).st_mode | stat.S_IRGRP | stat.S_IROTH)
        self.written.append(path)
        return path

    def __call__(self, engine: Engine) -> None:
        images = self._images(engine.state.output)
        for image, stem in zip(images, self._names(engine.state.batch, len(images)), strict=True):
            self.write(image, stem)
