"""The content loss of the SR bundle's GAN phase, chosen by name."""

from __future__ import annotations

import os

import torch.nn as nn
from monai.utils import StrEnum, look_up_option

from monai_mammo.losses.perceptual import VGG19ContentLoss
from monai_mammo.losses.pixel import PixelLoss

__all__ = ["ContentLoss", "sr_content_loss"]


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
