"""Super-resolution as bicubic upsampling plus a learned residual (VDSR's global skip around a generator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from monai_mammo.networks.registry import get_network, register_network

__all__ = ["BicubicResidualSR"]


@register_network(
    "bicubic_residual_sr",
    example_kwargs={"generator_kwargs": {"num_channels": 8, "num_res_blocks": 1}},
    example_input_shape=(2, 1, 8, 8),
    example_output_shape=(2, 1, 16, 16),
)
class BicubicResidualSR(nn.Module):
    """Super-resolution as bicubic upsampling plus a learned residual: ``out = bicubic(lr) + net(lr)``.

    Training the generator on the residual over bicubic (the global skip of VDSR, Kim et al., "Accurate image
    super-resolution using very deep convolutional networks", CVPR 2016) converges far faster than learning the
    whole image, which matters on a CPU budget. With ``zero_init`` the last conv of ``net`` starts at zero, so
    the untrained model *is* bicubic and training starts from the baseline it must beat. With
    ``residual=False`` the module returns ``net(lr)`` (the plain SRGAN generator of Ledig et al., 2017).

    Args:
        generator: LR -> SR network whose output has ``scale_factor`` times the input size: a module, or the
            registered name of one (default ``"srgan_generator"``, :class:`~monai_mammo.networks.nets.SRGANGenerator`),
            built with ``scale_factor`` and ``generator_kwargs``.
        scale_factor: upscaling factor of ``generator``.
        residual: add the bicubic upsampling of the input to the generator's output.
        zero_init: set the weights and bias of the generator's last ``Conv`` layer to zero (only with
            ``residual=True``).
        generator_kwargs: more arguments of a generator given by name (e.g. ``{"num_channels": 32}``).

    Example:
        >>> from monai_mammo.networks.nets import SRGANGenerator
        >>> net = BicubicResidualSR(SRGANGenerator(scale_factor=2, num_channels=8, num_res_blocks=1), 2)
        >>> lr = torch.rand(1, 1, 8, 8)
        >>> torch.allclose(net(lr), F.interpolate(lr, scale_factor=2, mode="bicubic"))
        True
    """

    def __init__(
        self,
        generator: nn.Module | str = "srgan_generator",
        scale_factor: int = 2,
        residual: bool = True,
        zero_init: bool = True,
        generator_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(generator, str):
            generator = get_network(generator, scale_factor=int(scale_factor), **dict(generator_kwargs or {}))
        elif generator_kwargs:
            raise ValueError("BicubicResidualSR: generator_kwargs apply to a generator given by name, not a module.")
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
