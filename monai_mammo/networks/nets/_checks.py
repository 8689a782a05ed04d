# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Input checks shared by the networks; TorchScript-compatible (plain functions, f-string messages)."""

from __future__ import annotations

import torch

__all__ = ["check_input", "check_spatial_dims"]


def check_spatial_dims(spatial_dims: int, name: str, allowed: tuple[int, ...] = (2, 3)) -> int:
    """Return ``spatial_dims`` as an int, or raise ``ValueError`` naming ``name``'s ``spatial_dims``."""
    if int(spatial_dims) not in allowed:
        raise ValueError(f"{name}: spatial_dims must be one of {allowed}, got {spatial_dims!r}.")
    return int(spatial_dims)


def check_input(x: torch.Tensor, in_channels: int, spatial_dims: int, name: str, min_size: int = 1) -> None:
    """Check a batch-first, channel-first input: its number of dimensions, channels and smallest spatial size.

    Raises:
        ValueError: naming ``name``'s input and what was expected.
    """
    if x.dim() != spatial_dims + 2:
        raise ValueError(
            f"{name}: input must have shape (N, C, {spatial_dims} spatial dims), i.e. {spatial_dims + 2} dims, "
            f"got shape {list(x.shape)}."
        )
    if x.shape[1] != in_channels:
        raise ValueError(f"{name}: input has {x.shape[1]} channels, expected in_channels={in_channels}.")
    for s in x.shape[2:]:
        if s < min_size:
            raise ValueError(
                f"{name}: input spatial size {list(x.shape[2:])} is too small, each side must be >= {min_size}."
            )
