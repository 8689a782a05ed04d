# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""SRGAN generator and discriminator (Ledig et al., 2017), as used by Swapna & Vijaya Kumar (2026).

References:
    C. Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network",
    CVPR 2017, https://arxiv.org/abs/1609.04802.

    Swapna & Vijaya Kumar, "SRGAN-STN-ResNet50" mammogram classification, 2026.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
from monai.networks.blocks import SubpixelUpsample
from monai.networks.layers.factories import Conv, Pool
from monai.networks.layers.utils import get_act_layer, get_norm_layer

from monai_mammo.networks.nets._checks import check_input, check_spatial_dims
from monai_mammo.networks.registry import register_network

__all__ = ["SRGANDiscriminator", "SRGANGenerator", "SRGANResidualBlock"]


def _norm_layer(norm: str | tuple | None, spatial_dims: int, channels: int) -> nn.Module:
    """MONAI's ``get_norm_layer``, with None (or ``""``) for no normalisation (EDSR's choice)."""
    return nn.Identity() if norm is None else get_norm_layer(norm, spatial_dims, channels)


class SRGANResidualBlock(nn.Module):
    """Residual block of the SRGAN generator: Conv3x3-Norm-Act-Conv3x3-Norm plus the identity.

    Args:
        spatial_dims: 2 or 3.
        channels: feature channels (in and out).
        act: activation name or ``(name, kwargs)`` (MONAI's ``Act`` factory); SRGAN uses PReLU.
        norm: normalisation name or ``(name, kwargs)`` (MONAI's ``Norm`` factory); SRGAN uses batch norm,
            None none (EDSR, Lim et al. 2017).
    """

    def __init__(
        self, spatial_dims: int, channels: int, act: str | tuple = "prelu", norm: str | tuple | None = "batch"
    ) -> None:
        super().__init__()
        conv = Conv[Conv.CONV, spatial_dims]
        self.conv1 = conv(channels, channels, kernel_size=3, padding=1)
        self.norm1 = _norm_layer(norm, spatial_dims, channels)
        self.act = get_act_layer(act)
        self.conv2 = conv(channels, channels, kernel_size=3, padding=1)
        self.norm2 = _norm_layer(norm, spatial_dims, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))


@register_network(
    "srgan_generator",
    example_kwargs={"scale_factor": 2, "num_channels": 16, "num_res_blocks": 2},
    example_input_shape=(2, 1, 16, 16),
    example_output_shape=(2, 1, 32, 32),
)
class SRGANGenerator(nn.Module):
    """The SRGAN generator (SRResNet) of Ledig et al. (2017).

    Conv 9x9 (``num_channels``) + PReLU; ``num_res_blocks`` residual blocks (Conv3x3-BN-PReLU-Conv3x3-BN, skip);
    Conv3x3-BN plus a long skip from the first conv; per factor 2 an upsampling block (Conv3x3 to
    ``num_channels * 2**spatial_dims`` channels (256 in 2D), pixel shuffle by 2, PReLU); Conv 9x9 to
    ``out_channels``. The sub-pixel convs start from the ICNR initialisation (MONAI's ``SubpixelUpsample``),
    which avoids checkerboard artefacts at the start of training.

    Args:
        spatial_dims: 2 (mammograms) or 3.
        in_channels: channels of the low-resolution input (1 for grayscale).
        out_channels: channels of the super-resolved output.
        scale_factor: upscaling factor: a power of 2 (1, 2, 4, 8, ...); the paper uses 4.
        num_channels: feature channels (64 in the paper).
        num_res_blocks: residual blocks (8 in Swapna & Vijaya Kumar; 16 in Ledig et al.).
        act: activation, name or ``(name, kwargs)``; ``"prelu"`` (one learnable slope per layer) by default.
        norm: normalisation, name or ``(name, kwargs)``; ``"batch"`` by default (SRGAN); None: no normalisation,
            as in EDSR (Lim et al., 2017), which found batch norm to cost SR accuracy.
        out_act: optional activation on the output (e.g. ``"tanh"`` for images in [-1, 1]); none by default.

    Raises:
        ValueError: ``scale_factor`` not a power of 2, or a non-positive size argument.

    Example:
        >>> net = SRGANGenerator(scale_factor=2)
        >>> net(torch.zeros(1, 1, 32, 32)).shape
        torch.Size([1, 1, 64, 64])
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_channels: int = 1,
        scale_factor: int = 4,
        num_channels: int = 64,
        num_res_blocks: int = 8,
        act: str | tuple = "prelu",
        norm: str | tuple | None = "batch",
        out_act: str | tuple | None = None,
    ) -> None:
        super().__init__()
        self.spatial_dims = check_spatial_dims(spatial_dims, "SRGANGenerator")
        if isinstance(scale_factor, bool) or int(scale_factor) != scale_factor or scale_factor < 1:
            raise ValueError(f"SRGANGenerator: scale_factor must be a power of 2 (1, 2, 4, 8...), got {scale_factor}.")
        scale_factor = int(scale_factor)
        if scale_factor & (scale_factor - 1):
            raise ValueError(f"SRGANGenerator: scale_factor must be a power of 2 (1, 2, 4, 8...), got {scale_factor}.")
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value < 1:
                raise ValueError(f"SRGANGenerator: {arg} must be >= 1, got {value}.")
        if num_channels < 1 or num_res_blocks < 0:
            raise ValueError(
                f"SRGANGenerator: num_channels must be >= 1 and num_res_blocks >= 0, got {num_channels}, "
                f"{num_res_blocks}."
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factor = scale_factor
        conv = Conv[Conv.CONV, self.spatial_dims]
        self.head = nn.Sequential(conv(in_channels, num_channels, kernel_size=9, padding=4), get_act_layer(act))
        self.res_blocks = nn.Sequential(
            *[SRGANResidualBlock(self.spatial_dims, num_channels, act, norm) for _ in range(num_res_blocks)]
        )
        self.post_res = nn.Sequential(
            conv(num_channels, num_channels, kernel_size=3, padding=1),
            _norm_layer(norm, self.spatial_dims, num_channels),
        )
        n_up = scale_factor.bit_length() - 1
        self.upsample = nn.Sequential(
            *[
                nn.Sequential(
                    SubpixelUpsample(self.spatial_dims, num_channels, num_channels, 2, apply_pad_pool=False),
                    get_act_layer(act),
                )
                for _ in range(n_up)
            ]
        )
        self.tail = conv(num_channels, out_channels, kernel_size=9, padding=4)
        self.out_act = nn.Identity() if out_act is None else get_act_layer(out_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Super-resolve ``x`` of shape ``(N, in_channels, *S)`` to ``(N, out_channels, *(S * scale_factor))``."""
        check_input(x, self.in_channels, self.spatial_dims, "SRGANGenerator")
        h = self.head(x)
        h = self.post_res(self.res_blocks(h)) + h
        return self.out_act(self.tail(self.upsample(h)))


@register_network(
    "srgan_discriminator",
    example_kwargs={"channels": (8, 8, 16, 16), "strides": (1, 2, 1, 2), "hidden_features": 32, "pool_size": 2},
    example_input_shape=(2, 1, 32, 32),
    example_output_shape=(2, 1),
)
class SRGANDiscriminator(nn.Module):
    """The SRGAN discriminator (Ledig et al., 2017) with adaptive pooling, so that any image size works.

    Conv3x3 + LeakyReLU; then Conv3x3-BN-LeakyReLU blocks with ``channels`` (64, 64, 128, 128, 256, 256, 512,
    512) and ``strides`` (1, 2, 1, 2, ...); adaptive average pooling to ``pool_size`` per side (6: 96x96
    patches give 6x6 maps in Ledig et al.); Linear to ``hidden_features`` (1024) + LeakyReLU; Linear to one
    logit (no sigmoid: use it with ``BCEWithLogits``-based losses).

    Args:
        spatial_dims: 2 or 3.
        in_channels: image channels.
        channels: output channels of each conv block; the first block has no normalisation.
        strides: stride of each conv block (same length as ``channels``).
        negative_slope: LeakyReLU slope; 0.01 in Swapna & Vijaya Kumar (2026), 0.2 in Ledig et al. (2017).
        norm: normalisation, name or ``(name, kwargs)``; ``"batch"`` by default.
        pool_size: side of the adaptive average pooling output.
        hidden_features: width of the hidden linear layer.

    Inputs must have every side >= the product of ``strides`` (16 by default), so that the last conv map has at
    least one pixel.

    Example:
        >>> net = SRGANDiscriminator()
        >>> net(torch.zeros(2, 1, 64, 64)).shape
        torch.Size([2, 1])
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        channels: Sequence[int] = (64, 64, 128, 128, 256, 256, 512, 512),
        strides: Sequence[int] = (1, 2, 1, 2, 1, 2, 1, 2),
        negative_slope: float = 0.01,
        norm: str | tuple = "batch",
        pool_size: int = 6,
        hidden_features: int = 1024,
    ) -> None:
        super().__init__()
        self.spatial_dims = check_spatial_dims(spatial_dims, "SRGANDiscriminator")
        channels, strides = list(channels), list(strides)
        if not channels or len(channels) != len(strides):
            raise ValueError(
                f"SRGANDiscriminator: channels and strides must be non-empty and of equal length, got {channels} "
                f"and {strides}."
            )
        if pool_size < 1 or hidden_features < 1:
            raise ValueError(
                f"SRGANDiscriminator: pool_size and hidden_features must be >= 1, got {pool_size}, {hidden_features}."
            )
        self.in_channels = in_channels
        self.min_size = 1
        for s in strides:
            self.min_size *= int(s)
        conv = Conv[Conv.CONV, self.spatial_dims]
        layers: list[nn.Module] = []
        prev = in_channels
        for i, (ch, st) in enumerate(zip(channels, strides, strict=True)):
            layers.append(conv(prev, ch, kernel_size=3, stride=st, padding=1, bias=i == 0))
            if i > 0:
                layers.append(get_norm_layer(norm, self.spatial_dims, ch))
            layers.append(nn.LeakyReLU(negative_slope))
            prev = ch
        self.features = nn.Sequential(*layers)
        self.pool = Pool[Pool.ADAPTIVEAVG, self.spatial_dims](pool_size)
        self.classifier = nn.Sequential(
            nn.Flatten(1),
            nn.Linear(prev * pool_size**self.spatial_dims, hidden_features),
            nn.LeakyReLU(negative_slope),
            nn.Linear(hidden_features, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return one real/fake logit per image, shape (N, 1)."""
        check_input(x, self.in_channels, self.spatial_dims, "SRGANDiscriminator", self.min_size)
        return self.classifier(self.pool(self.features(x)))
