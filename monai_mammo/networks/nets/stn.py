# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Spatial transformer network (Jaderberg et al., 2015) with the blended Lanczos/bilinear sampler.

References:
    M. Jaderberg, K. Simonyan, A. Zisserman, K. Kavukcuoglu, "Spatial Transformer Networks", NeurIPS 2015,
    https://arxiv.org/abs/1506.02025.

    Swapna & Vijaya Kumar, "SRGAN-STN-ResNet50" mammogram classification, 2026 (the blended sampler).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from monai.networks.layers.factories import Conv, Pool
from monai.networks.layers.utils import get_act_layer, get_norm_layer
from monai.utils import StrEnum, ensure_tuple_rep, look_up_option

from monai_mammo.networks.layers import BlendedSampler, LanczosPadding, lanczos_grid_sample
from monai_mammo.networks.nets._checks import check_input, check_spatial_dims
from monai_mammo.networks.registry import register_network

__all__ = ["BilinearSampler", "LanczosSampler", "STNSampler", "SpatialTransformer"]


class STNSampler(StrEnum):
    """Sampler of the spatial transformer: the paper's learnable blend, or one of its two parts."""

    BLENDED = "blended"
    BILINEAR = "bilinear"
    LANCZOS = "lanczos"


class BilinearSampler(nn.Module):
    """``torch.nn.functional.grid_sample`` with ``mode="bilinear"`` as a module (same call as ``BlendedSampler``)."""

    def __init__(self, padding_mode: str = "zeros", align_corners: bool = False) -> None:
        super().__init__()
        self.padding_mode = padding_mode
        self.align_corners = align_corners

    def forward(self, input: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        return F.grid_sample(
            input, grid, mode="bilinear", padding_mode=self.padding_mode, align_corners=self.align_corners
        )


class LanczosSampler(nn.Module):
    """:func:`~monai_mammo.networks.layers.lanczos_grid_sample` as a module (same call as ``BlendedSampler``)."""

    def __init__(
        self, a: int = 3, padding_mode: str = "zeros", align_corners: bool = False, backend: str = "auto"
    ) -> None:
        super().__init__()
        self.a = a
        self.padding_mode = padding_mode
        self.align_corners = align_corners
        self.backend = backend

    def forward(self, input: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        return lanczos_grid_sample(
            input,
            grid,
            a=self.a,
            padding_mode=self.padding_mode,
            align_corners=self.align_corners,
            backend=self.backend,
        )


@register_network(
    "spatial_transformer",
    example_kwargs={"channels": (4, 8), "hidden_features": 16, "localization_size": 16, "lanczos_backend": "reference"},
    example_input_shape=(2, 1, 24, 24),
    example_output_shape=(2, 1, 24, 24),
)
class SpatialTransformer(nn.Module):
    """Spatial transformer: a localisation CNN predicts an affine transform, a sampler warps the image with it.

    The localisation network (Jaderberg et al., 2015) is ``len(channels)`` blocks of Conv3x3 (-Norm) -Act
    -MaxPool(2), an adaptive average pooling to ``pool_size`` per side, Linear to ``hidden_features`` + Act,
    and a last Linear to the ``spatial_dims * (spatial_dims + 1)`` affine parameters (6 in 2D). That last layer
    starts at the identity transform (weights zero, bias ``[1, 0, 0, 0, 1, 0]``), so an untrained STN passes
    the image through unchanged (up to interpolation). The affine grid (``torch.nn.functional.affine_grid``)
    is sampled by the blended Lanczos/bilinear sampler of Swapna & Vijaya Kumar (2026) by default.

    The localisation may run on a resized copy of the input (``localization_size``, e.g. 128x128 for a
    512x512 image, anti-aliased bilinear resizing in 2D, area in 3D); the warp is always applied to the
    full-resolution input, because the affine parameters are in normalised [-1, 1] coordinates.

    Args:
        spatial_dims: 2 or 3.
        in_channels: image channels.
        channels: output channels of the localisation conv blocks.
        hidden_features: width of the localisation's hidden linear layer.
        pool_size: side of the localisation's adaptive average pooling output.
        localization_size: size the localisation sees (int or one per spatial dim); None: the input's size.
        output_size: spatial size of the warped output (int or one per spatial dim); None: the input's size.
        sampler: ``"blended"`` (learnable ``w * Lanczos + (1 - w) * bilinear``), ``"bilinear"`` or
            ``"lanczos"`` (see :class:`STNSampler`).
        lanczos_a: Lanczos window of the ``"blended"`` and ``"lanczos"`` samplers.
        lanczos_backend: implementation of the Lanczos sampling (``"auto"``, ``"reference"`` (pure torch),
            ``"numba"``, ``"triton"``; see :func:`~monai_mammo.networks.layers.lanczos.select_backend`).
        init_weight: initial blend weight ``w`` of the ``"blended"`` sampler.
        padding_mode: where the grid leaves the image: ``"zeros"``, ``"border"`` or ``"reflection"``.
        align_corners: as in ``affine_grid`` / ``grid_sample``.
        act: localisation activation, name or ``(name, kwargs)``.
        norm: localisation normalisation, name or ``(name, kwargs)``; None (as in Jaderberg et al.) by default.

    Example:
        >>> stn = SpatialTransformer(localization_size=64)
        >>> warped, theta = stn.forward_with_theta(torch.rand(2, 1, 256, 256))
        >>> warped.shape, theta.shape
        (torch.Size([2, 1, 256, 256]), torch.Size([2, 2, 3]))
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        channels: Sequence[int] = (16, 32, 64),
        hidden_features: int = 64,
        pool_size: int = 4,
        localization_size: Sequence[int] | int | None = None,
        output_size: Sequence[int] | int | None = None,
        sampler: str = STNSampler.BLENDED,
        lanczos_a: int = 3,
        lanczos_backend: str = "auto",
        init_weight: float = 0.5,
        padding_mode: str = "zeros",
        align_corners: bool = False,
        act: str | tuple = "relu",
        norm: str | tuple | None = None,
    ) -> None:
        super().__init__()
        self.spatial_dims = check_spatial_dims(spatial_dims, "SpatialTransformer")
        d = self.spatial_dims
        if in_channels < 1 or not channels or min(channels) < 1 or hidden_features < 1 or pool_size < 1:
            raise ValueError(
                "SpatialTransformer: in_channels, channels, hidden_features and pool_size must be positive, got "
                f"{in_channels}, {tuple(channels)}, {hidden_features}, {pool_size}."
            )
        self.in_channels = in_channels
        self.align_corners = bool(align_corners)
        self.localization_size = self._size_arg(localization_size, "localization_size")
        self.output_size = self._size_arg(output_size, "output_size")
        conv, pool = Conv[Conv.CONV, d], Pool[Pool.MAX, d]
        layers: list[nn.Module] = []
        prev = in_channels
        for ch in channels:
            layers.append(conv(prev, ch, kernel_size=3, padding=1, bias=norm is None))
            if norm is not None:
                layers.append(get_norm_layer(norm, d, ch))
            layers += [get_act_layer(act), pool(kernel_size=2, ceil_mode=True)]
            prev = ch
        layers.append(Pool[Pool.ADAPTIVEAVG, d](pool_size))
        layers += [nn.Flatten(1), nn.Linear(prev * pool_size**d, hidden_features), get_act_layer(act)]
        self.localization = nn.Sequential(*layers)
        self.fc_theta = nn.Linear(hidden_features, d * (d + 1))
        nn.init.zeros_(self.fc_theta.weight)
        with torch.no_grad():
            self.fc_theta.bias.copy_(torch.eye(d, d + 1).flatten())
        self.sampler_name = STNSampler(look_up_option(sampler, STNSampler))
        padding_mode = str(look_up_option(padding_mode, LanczosPadding))
        self.sampler: nn.Module
        if self.sampler_name == STNSampler.BLENDED:
            self.sampler = BlendedSampler(
                a=lanczos_a,
                init_weight=init_weight,
                padding_mode=padding_mode,
                align_corners=self.align_corners,
                backend=lanczos_backend,
            )
        elif self.sampler_name == STNSampler.LANCZOS:
            self.sampler = LanczosSampler(lanczos_a, padding_mode, self.align_corners, lanczos_backend)
        else:
            self.sampler = BilinearSampler(padding_mode, self.align_corners)

    def _size_arg(self, size: Sequence[int] | int | None, arg: str) -> list[int]:
        if size is None:  # [0] means "the input's size" (a non-empty list keeps the attribute TorchScript-typed)
            return [0]
        out = [int(s) for s in ensure_tuple_rep(size, self.spatial_dims)]
        if min(out) < 1:
            raise ValueError(f"SpatialTransformer: {arg} must be positive, got {size!r}.")
        return out

    def localize(self, x: torch.Tensor) -> torch.Tensor:
        """Affine parameters ``theta`` of shape (N, spatial_dims, spatial_dims + 1) for the batch ``x``."""
        check_input(x, self.in_channels, self.spatial_dims, "SpatialTransformer")
        small = x
        if self.localization_size[0] > 0 and list(x.shape[2:]) != self.localization_size:
            if self.spatial_dims == 2:
                small = F.interpolate(
                    x, size=self.localization_size, mode="bilinear", align_corners=False, antialias=True
                )
            else:
                small = F.interpolate(x, size=self.localization_size, mode="area")
        theta = self.fc_theta(self.localization(small))
        return theta.view(-1, self.spatial_dims, self.spatial_dims + 1)

    def warp(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Warp ``x`` with the affine ``theta`` onto a grid of ``output_size`` (or ``x``'s size)."""
        shape = [x.shape[0], x.shape[1]]
        shape.extend(self.output_size if self.output_size[0] > 0 else x.shape[2:])
        grid = F.affine_grid(theta, shape, align_corners=self.align_corners)
        return self.sampler(x, grid.to(x.dtype))

    def forward_with_theta(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The warped image and the affine parameters ``theta``, e.g. for visualisation."""
        theta = self.localize(x)
        return self.warp(x, theta), theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The warped image, ``(N, C, *output_size)``."""
        return self.warp(x, self.localize(x))
