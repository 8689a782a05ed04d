# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""VGG19 content loss of SRGAN (Ledig et al., 2017): a distance between VGG19 feature maps.

Reference:
    C. Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network",
    CVPR 2017 (the ``VGG54`` loss: features of relu5_4; ``VGG22``: relu2_2).

The ImageNet weights come from a local torchvision-format file (``vgg19-dcbb9e9d.pth``); nothing is downloaded.
MONAI's ``PerceptualLoss`` downloads its networks through torch.hub, hence this module.
"""

from __future__ import annotations

import os
import warnings

import torch
import torch.nn as nn
from monai.utils import StrEnum, look_up_option

from monai_mammo.losses.pixel import PixelCriterion, PixelLoss
from monai_mammo.networks.weights import VGG19_IMAGENET_URL, load_matching_state_dict, load_state_dict_file

__all__ = ["VGG19_LAYERS", "VGG19ContentLoss", "VGGFallback", "vgg19_features"]

# torchvision's VGG19 "E" configuration: conv widths, "M" = max pooling
_VGG19_CFG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M")
_VGG19_CFG += (512, 512, 512, 512, "M")


def _layer_names() -> dict[str, int]:
    """Layer name -> index in torchvision's ``vgg19().features`` (conv1_1 = 0, relu1_1 = 1, ..., pool5 = 36)."""
    names: dict[str, int] = {}
    idx, block, conv = 0, 1, 0
    for v in _VGG19_CFG:
        if v == "M":
            names[f"pool{block}"] = idx
            idx, block, conv = idx + 1, block + 1, 0
        else:
            conv += 1
            names[f"conv{block}_{conv}"] = idx
            names[f"relu{block}_{conv}"] = idx + 1
            idx += 2
    return names


VGG19_LAYERS: dict[str, int] = _layer_names()


class VGGFallback(StrEnum):
    """What :class:`VGG19ContentLoss` does without a weights file, when the user asks for it explicitly."""

    RANDOM = "random"  # randomly initialised VGG19 features: a weak stand-in, for tests and smoke runs
    PIXEL = "pixel"  # the pixel loss on the images themselves


def vgg19_features(layer: str = "relu5_4") -> nn.Sequential:
    """torchvision's ``vgg19().features`` (same indices, so same state-dict keys) up to and including ``layer``."""
    last = VGG19_LAYERS[look_up_option(layer, list(VGG19_LAYERS))]
    layers: list[nn.Module] = []
    prev = 3
    for v in _VGG19_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(prev, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            prev = int(v)
    return nn.Sequential(*layers[: last + 1])


class VGG19ContentLoss(nn.Module):
    """Distance (MSE by default) between the VGG19 features of two images, up to ``layer`` (Ledig et al., 2017).

    Images are mapped from ``input_range`` to [0, 1], grayscale is repeated to 3 channels and ImageNet's mean
    and standard deviation are applied before the (frozen) VGG19. The target's features are computed without
    gradients.

    Without ``weights_path`` the loss refuses to work, unless ``fallback`` is given explicitly: ``"random"``
    (random VGG19 features; a weak stand-in: the distance of random conv features is a texture-aware pixel
    loss, not a perceptual one) or ``"pixel"`` (the pixel loss on the images).

    Args:
        layer: last VGG19 layer used, e.g. ``"relu5_4"`` (VGG54) or ``"relu2_2"`` (VGG22); see ``VGG19_LAYERS``.
        weights_path: local torchvision VGG19 state dict (``features.N.weight`` keys), e.g. ``vgg19-dcbb9e9d.pth``.
        fallback: None (an error without weights), ``"random"`` or ``"pixel"`` (see :class:`VGGFallback`).
        criterion: ``"mse"`` or ``"l1"`` between the feature maps.
        input_range: (low, high) of the images' intensities, mapped to [0, 1].

    Raises:
        ValueError: no ``weights_path`` and no ``fallback``; a file whose keys or shapes do not match.
        FileNotFoundError: ``weights_path`` is not a file.

    Example:
        >>> loss = VGG19ContentLoss(layer="relu2_2", weights_path="vgg19-dcbb9e9d.pth")  # doctest: +SKIP
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        layer: str = "relu5_4",
        weights_path: str | os.PathLike | None = None,
        fallback: str | None = None,
        criterion: str = PixelCriterion.MSE,
        input_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        super().__init__()
        self.layer = str(look_up_option(layer, list(VGG19_LAYERS)))
        self.fallback = None if fallback is None else VGGFallback(look_up_option(fallback, VGGFallback))
        low, high = (float(v) for v in input_range)
        if not high > low:
            raise ValueError(f"VGG19ContentLoss: input_range must be (low, high) with high > low, got {input_range}.")
        self.input_range = (low, high)
        self.distance = PixelLoss(criterion)
        self.features: nn.Module | None
        if weights_path is not None:
            self.features = vgg19_features(self.layer)
            hint = f"Download torchvision's VGG19 ImageNet weights once ({VGG19_IMAGENET_URL}) and pass the path."
            sd = load_state_dict_file(weights_path, "weights_path", hint)
            load_matching_state_dict(
                self.features,
                sd,
                f"weights_path {os.fspath(weights_path)!r}",
                prefix="features.",
                allow_unexpected=True,
            )
        elif self.fallback is None:
            raise ValueError(
                "VGG19ContentLoss needs VGG19 ImageNet weights and never downloads them: download "
                f"vgg19-dcbb9e9d.pth from the torchvision model zoo ({VGG19_IMAGENET_URL}) and pass "
                "weights_path=..., or choose a stand-in explicitly with fallback='random' (random VGG19 features, "
                "weak) or fallback='pixel' (the pixel loss)."
            )
        elif self.fallback == VGGFallback.RANDOM:
            warnings.warn(
                "VGG19ContentLoss(fallback='random'): random VGG19 features are a weak stand-in for the "
                "perceptual loss; pass weights_path for real results.",
                stacklevel=2,
            )
            self.features = vgg19_features(self.layer)
        else:
            self.features = None
        if self.features is not None:
            self.features.requires_grad_(False).eval()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> VGG19ContentLoss:
        """The VGG19 stays in eval mode."""
        super().train(mode)
        if self.features is not None:
            self.features.eval()
        return self

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.input_range
        x = (x - low) / (high - low)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Content loss of ``input`` (e.g. the SR image) against ``target`` (the HR image), (N, 1 or 3, H, W).

        Raises:
            ValueError: shapes that differ, not 4D, or a channel count other than 1 or 3.
        """
        if input.shape != target.shape:
            raise ValueError(
                f"VGG19ContentLoss: input shape {tuple(input.shape)} != target shape {tuple(target.shape)}."
            )
        if input.dim() != 4 or input.shape[1] not in (1, 3):
            raise ValueError(
                f"VGG19ContentLoss: input must be (N, 1 or 3, H, W) (2D, gray or RGB), got {tuple(input.shape)}."
            )
        if self.features is None:
            return self.distance(input, target)
        with torch.no_grad():
            target_features = self.features(self._prepare(target))
        return self.distance(self.features(self._prepare(input)), target_features)
