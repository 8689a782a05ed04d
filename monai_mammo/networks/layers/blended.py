"""The blended Lanczos/bilinear sampler of the SRGAN-STN-ResNet50 spatial transformer."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from monai.utils import look_up_option
from torch import nn

from ._blended_numba import numba_blended_grid_sample
from .lanczos import LanczosBackend, LanczosPadding, _check_args, lanczos_grid_sample, select_backend

__all__ = ["BlendedSampler"]


class BlendedSampler(nn.Module):
    """``out = w * lanczos_grid_sample(x, grid) + (1 - w) * grid_sample(x, grid, "bilinear")``, ``w = sigmoid(t)``.

    The sampler of the spatial transformer in Swapna & Vijaya Kumar (2026), "SRGAN-STN-ResNet50": a learnable
    weight blends Lanczos interpolation (sharp, may ring) with bilinear interpolation (smooth). Following the
    paper's equation, ``w -> 1`` is pure Lanczos and ``w -> 0`` pure bilinear. ``t`` is a parameter initialised
    to ``logit(init_weight)``; ``init_weight=0`` or ``1`` gives ``t = -inf`` or ``+inf``, i.e. a fixed exact
    bilinear or Lanczos sampler (the gradient of ``t`` is then 0).

    Args:
        a: Lanczos window (Lanczos-``a``).
        num_channels: None for one weight shared by all channels, an int for one weight per channel (the
            input must then have that many channels).
        init_weight: initial ``w`` in [0, 1].
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``, for both samplers.
        align_corners: as in :func:`torch.nn.functional.grid_sample`, for both samplers.
        backend: Lanczos backend (see :func:`~monai_mammo.networks.layers.lanczos.select_backend`). Where it
            resolves to numba (2D CPU tensors), a fused kernel computes both halves and the blend in one pass
            (no separate bilinear pass, no output-sized temporaries); elsewhere the sampler composes
            :func:`lanczos_grid_sample`, ``grid_sample`` and ``torch.lerp``.

    Example:
        >>> sampler = BlendedSampler()
        >>> theta = torch.eye(2, 3).unsqueeze(0)
        >>> grid = F.affine_grid(theta, (1, 1, 8, 8), align_corners=False)
        >>> sampler(torch.rand(1, 1, 8, 8), grid).shape
        torch.Size([1, 1, 8, 8])
    """

    def __init__(
        self,
        a: int = 3,
        num_channels: int | None = None,
        init_weight: float = 0.5,
        padding_mode: str = "zeros",
        align_corners: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        if isinstance(a, bool) or not isinstance(a, int) or a < 1:
            raise ValueError(f"a (the Lanczos window) must be an integer >= 1, got {a!r}.")
        if num_channels is not None and (
            isinstance(num_channels, bool) or int(num_channels) != num_channels or num_channels < 1
        ):
            raise ValueError(f"num_channels must be None or a positive integer, got {num_channels!r}.")
        if not 0.0 <= float(init_weight) <= 1.0:
            raise ValueError(f"init_weight must lie in [0, 1], got {init_weight!r}.")
        self.a = a
        self.num_channels = num_channels
        self.padding_mode = str(look_up_option(padding_mode, LanczosPadding))
        self.align_corners = bool(align_corners)
        self.backend = str(look_up_option(backend, LanczosBackend))
        w = float(init_weight)
        t = math.inf if w == 1.0 else -math.inf if w == 0.0 else math.log(w / (1.0 - w))
        shape = () if num_channels is None else (int(num_channels),)
        self.t = nn.Parameter(torch.full(shape, t))

    @property
    def weight(self) -> torch.Tensor:
        """The blend weight ``w = sigmoid(t)`` (scalar, or one per channel)."""
        return torch.sigmoid(self.t)

    def forward(self, input: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at ``grid`` (``grid_sample``'s convention)."""
        if self.num_channels is not None and (input.dim() < 2 or input.shape[1] != self.num_channels):
            raise ValueError(
                f"input must have num_channels={self.num_channels} channels, got shape {tuple(input.shape)}."
            )
        _check_args(input, grid, self.a)
        if select_backend(input, self.backend) == LanczosBackend.NUMBA:
            # fused kernel: one pass, no separate bilinear pass and no output-sized temporaries
            return numba_blended_grid_sample(input, grid, self.weight, self.a, self.padding_mode, self.align_corners)
        lanczos = lanczos_grid_sample(input, grid, self.a, self.padding_mode, self.align_corners, self.backend)
        bilinear = F.grid_sample(
            input, grid, mode="bilinear", padding_mode=self.padding_mode, align_corners=self.align_corners
        ).to(lanczos.dtype)
        w = self.weight.to(lanczos.dtype)
        if self.num_channels is not None:
            w = w.reshape(1, -1, *([1] * (input.dim() - 2)))
        # lerp(b, l, w) = b + w (l - b): one output-sized tensor instead of three temporaries
        return torch.lerp(bilinear, lanczos, w)

    def extra_repr(self) -> str:
        return (
            f"a={self.a}, num_channels={self.num_channels}, padding_mode={self.padding_mode!r}, "
            f"align_corners={self.align_corners}, backend={self.backend!r}"
        )
