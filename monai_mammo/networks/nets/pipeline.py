# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""The full SRGAN-STN-ResNet50 model: super-resolution, spatial transformer, ResNet-50 classifier.

Reference:
    Swapna & Vijaya Kumar, "SRGAN-STN-ResNet50" mammogram classification, 2026.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn

from monai_mammo.networks.nets.resnet import ResNet50Classifier
from monai_mammo.networks.nets.srgan import SRGANGenerator
from monai_mammo.networks.nets.stn import SpatialTransformer
from monai_mammo.networks.registry import register_network

__all__ = ["SRGANSTNClassifier"]


def _build(part: nn.Module | Mapping[str, Any] | None, cls: type[nn.Module], arg: str, **defaults: Any) -> nn.Module:
    if isinstance(part, nn.Module):
        return part
    if part is not None and not isinstance(part, Mapping):
        raise TypeError(f"SRGANSTNClassifier: {arg} must be an nn.Module, a dict of {cls.__name__} arguments or None.")
    kwargs = {**defaults, **dict(part or {})}
    return cls(**kwargs)


@register_network(
    "srgan_stn_classifier",
    example_kwargs={
        "sr": {"scale_factor": 2, "num_channels": 8, "num_res_blocks": 1},
        "stn": {"channels": (4,), "hidden_features": 8, "sampler": "bilinear"},
    },
    example_input_shape=(2, 1, 16, 16),
    example_output_shape=(2, 3),
)
class SRGANSTNClassifier(nn.Module):
    """SRGAN-STN-ResNet50 (Swapna & Vijaya Kumar, 2026): LR image -> SR generator -> STN -> ResNet-50 -> logits.

    The three parts are trained end to end; ``freeze_sr=True`` freezes the generator (``requires_grad=False``,
    kept in eval mode so its batch norm uses running statistics, run under ``torch.no_grad``), e.g. after
    pretraining it with the SRGAN losses. The switches ``use_sr`` and ``use_stn`` give the paper's ablations
    from the same class: ResNet50 (both off), STN-ResNet50 (``use_sr=False``) and SRGAN-STN-ResNet50 (both
    on); a part switched off is an identity.

    Args:
        spatial_dims: 2 or 3, passed to the parts built from dicts.
        in_channels: channels of the LR input (and of the SR output, the STN and the classifier).
        num_classes: classifier outputs (3: normal, benign, malignant).
        sr: a module, or a dict of :class:`~monai_mammo.networks.nets.SRGANGenerator` arguments.
        stn: a module, or a dict of :class:`~monai_mammo.networks.nets.SpatialTransformer` arguments.
        classifier: a module, or a dict of :class:`~monai_mammo.networks.nets.ResNet50Classifier` arguments
            (e.g. ``{"pretrained_weights": "resnet50-0676ba61.pth", "freeze_until": "layer2"}``).
        use_sr: apply the SR generator (else the input goes to the STN as it is).
        use_stn: apply the spatial transformer.
        freeze_sr: freeze the SR generator.

    Example:
        >>> net = SRGANSTNClassifier(sr={"scale_factor": 2})
        >>> net(torch.zeros(1, 1, 64, 64)).shape
        torch.Size([1, 3])
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 3,
        sr: nn.Module | Mapping[str, Any] | None = None,
        stn: nn.Module | Mapping[str, Any] | None = None,
        classifier: nn.Module | Mapping[str, Any] | None = None,
        use_sr: bool = True,
        use_stn: bool = True,
        freeze_sr: bool = False,
    ) -> None:
        super().__init__()
        common = {"spatial_dims": spatial_dims, "in_channels": in_channels}
        self.use_sr = bool(use_sr)
        self.use_stn = bool(use_stn)
        self.freeze_sr = bool(freeze_sr) and self.use_sr
        self.sr: nn.Module = (
            _build(sr, SRGANGenerator, "sr", out_channels=in_channels, **common) if use_sr else nn.Identity()
        )
        self.stn: nn.Module = _build(stn, SpatialTransformer, "stn", **common) if use_stn else nn.Identity()
        self.classifier: nn.Module = _build(
            classifier, ResNet50Classifier, "classifier", num_classes=num_classes, **common
        )
        self._check_channels(in_channels)
        if self.freeze_sr:
            self.sr.requires_grad_(False)
        self.train(self.training)

    def _check_channels(self, in_channels: int) -> None:
        channels = in_channels
        for name in ("sr", "stn", "classifier"):
            part = getattr(self, name)
            expected = getattr(part, "in_channels", None)
            if expected is not None and expected != channels:
                raise ValueError(
                    f"SRGANSTNClassifier: {name} takes in_channels={expected}, but receives {channels} channels."
                )
            channels = getattr(part, "out_channels", channels)

    def train(self, mode: bool = True) -> SRGANSTNClassifier:
        """Set train/eval mode; a frozen SR generator always stays in eval mode."""
        super().train(mode)
        if getattr(self, "freeze_sr", False):
            self.sr.eval()
        return self

    def _super_resolve(self, x: torch.Tensor) -> torch.Tensor:
        if self.freeze_sr:
            with torch.no_grad():
                return self.sr(x)
        return self.sr(x)

    def forward_intermediates(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The images along the way, for visualisation: ``{"sr", "warped", "logits"}`` (``sr`` is the input
        when ``use_sr=False``, ``warped`` is ``sr`` when ``use_stn=False``)."""
        sr = self._super_resolve(x)
        warped = self.stn(sr)
        return {"sr": sr, "warped": warped, "logits": self.classifier(warped)}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The classifier's feature map of the super-resolved, warped image."""
        return self.classifier.forward_features(self.stn(self._super_resolve(x)))  # type: ignore[operator]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The classifier's head (see :meth:`ResNet50Classifier.forward_head`)."""
        return self.classifier.forward_head(x, pre_logits)  # type: ignore[operator]

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier's last layer (see :meth:`ResNet50Classifier.reset_classifier`)."""
        self.classifier.reset_classifier(num_classes)  # type: ignore[operator]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, (N, num_classes), of the LR batch ``x``."""
        return self.classifier(self.stn(self._super_resolve(x)))
