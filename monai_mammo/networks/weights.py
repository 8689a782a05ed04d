# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Loading pretrained weights from local torchvision-format state-dict files; nothing is ever downloaded.

torchvision is not a dependency: the networks that take ImageNet weights (ResNet-50, the VGG19 of the content
loss) use torchvision's module names, so its ``.pth`` files load as they are. Get the files once, e.g.::

    wget https://download.pytorch.org/models/resnet50-0676ba61.pth   # ResNet-50, IMAGENET1K_V1
    wget https://download.pytorch.org/models/vgg19-dcbb9e9d.pth      # VGG19, IMAGENET1K_V1

and pass their paths (``pretrained_weights=...``, ``weights_path=...``).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn

from monai_mammo.utils import atomic_write

__all__ = [
    "RESNET50_IMAGENET_URL",
    "VGG19_IMAGENET_URL",
    "adapt_input_channels",
    "load_matching_state_dict",
    "load_network_state",
    "load_state_dict_file",
    "save_network_state",
]

logger = logging.getLogger(__name__)

RESNET50_IMAGENET_URL = "https://download.pytorch.org/models/resnet50-0676ba61.pth"
VGG19_IMAGENET_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"

_LIST_AT_MOST = 10


def load_state_dict_file(path: str | os.PathLike, arg: str = "weights", hint: str = "") -> dict[str, torch.Tensor]:
    """Read a state dict from a local ``.pth``/``.pt`` file (``torch.load(weights_only=True)`` on the CPU).

    A checkpoint that wraps the state dict (``{"state_dict": ...}`` or ``{"model": ...}``) is unwrapped, and
    the ``module.`` prefix of DistributedDataParallel checkpoints is removed.

    Args:
        path: the file.
        arg: name of the argument that gave ``path``, for error messages.
        hint: how to get the file, appended to the "not found" message.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file holds no state dict of tensors.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{arg}: no weights file at {os.fspath(path)!r}. {hint}".strip())
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{arg}: {os.fspath(path)!r} does not hold a state dict (a mapping of names to tensors).")
    out = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in out):
        out = {k[len("module.") :]: v for k, v in out.items()}
    return out


def adapt_input_channels(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Adapt a first-conv weight ``(out, c, *k)`` trained on ``c`` (3, RGB) channels to ``in_channels``.

    One channel: the sum over the input channels, so a gray image x gives the response the RGB network gives
    to (x, x, x) (the usual trick, as in timm's ``adapt_input_conv``). Other counts (as timm does): the RGB
    weights repeated cyclically over the new channels and scaled by ``c / in_channels``, which keeps the
    magnitude of the response about the same.
    """
    c = weight.shape[1]
    if in_channels == c:
        return weight
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    reps = math.ceil(in_channels / c)
    return weight.repeat(1, reps, *([1] * (weight.dim() - 2)))[:, :in_channels] * (c / in_channels)


def _listing(title: str, items: list[str]) -> str:
    more = f" ... and {len(items) - _LIST_AT_MOST} more" if len(items) > _LIST_AT_MOST else ""
    return f"{title} ({len(items)}): {', '.join(items[:_LIST_AT_MOST])}{more}"


def load_matching_state_dict(
    module: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    source: str = "weights",
    prefix: str = "",
    ignore_prefixes: Iterable[str] = (),
    adapt_keys: Iterable[str] = (),
    allow_unexpected: bool = False,
) -> None:
    """Load ``state_dict`` into ``module`` after checking every key and shape; name what does not match.

    Args:
        module: the network (its ``state_dict`` keys are the expected ones).
        state_dict: the weights, e.g. from :func:`load_state_dict_file`.
        source: what the weights are (a file name), for error messages.
        prefix: only keys starting with it are used, with it removed (``"features."`` for VGG).
        ignore_prefixes: keys (after ``prefix`` removal) starting with one of these are dropped (``"fc."``).
        adapt_keys: first-conv weights whose input channels are adapted with :func:`adapt_input_channels`.
        allow_unexpected: keep quiet about keys the module lacks (e.g. the deeper layers of a truncated VGG).

    Missing BatchNorm ``num_batches_tracked`` buffers (absent from older torchvision files) are not an error.

    Raises:
        ValueError: listing the missing keys, the unexpected keys and the keys with a wrong shape.
    """
    ignore = tuple(ignore_prefixes)
    sd = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
    sd = {k: v for k, v in sd.items() if not (ignore and k.startswith(ignore))}
    expected = module.state_dict()
    for key in adapt_keys:
        if key in sd and key in expected and sd[key].dim() == expected[key].dim() >= 3:
            sd[key] = adapt_input_channels(sd[key], expected[key].shape[1])
    missing = sorted(k for k in expected if k not in sd and not k.endswith("num_batches_tracked"))
    unexpected = [] if allow_unexpected else sorted(k for k in sd if k not in expected)
    mismatched = sorted(
        f"{k} {tuple(sd[k].shape)} != expected {tuple(expected[k].shape)}"
        for k in expected
        if k in sd and sd[k].shape != expected[k].shape
    )
    if missing or unexpected or mismatched:
        parts = [
            _listing(title, items)
            for title, items in (
                ("missing keys", [prefix + k for k in missing]),
                ("unexpected keys", [prefix + k for k in unexpected]),
                ("wrong shapes", [prefix + k for k in mismatched]),
            )
            if items
        ]
        raise ValueError(f"{source} does not match {type(module).__name__}: " + "; ".join(parts) + ".")
    module.load_state_dict({k: v for k, v in sd.items() if k in expected}, strict=False)


def save_network_state(network: nn.Module, path: str | os.PathLike) -> Path:
    """Write the state dict of ``network`` (unwrapped from DDP) to ``path`` atomically, on rank 0 only.

    Phases hand their result to the next through such files (a crashed phase leaves none, or the previous one).
    """
    path = Path(path)
    if not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as f:
            torch.save(getattr(network, "module", network).state_dict(), f)
        logger.info("model saved to %s", path)
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
    return path


def load_network_state(source: str | os.PathLike | Mapping[str, Any], key: str = "network") -> dict[str, Any]:
    """A network state dict from a dict or a checkpoint file (a bare state dict or one holding ``key``)."""
    if isinstance(source, Mapping):
        state: Mapping[str, Any] = source
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {os.fspath(path)!r} does not exist; run the previous phase first.")
        state = torch.load(path, map_location="cpu", weights_only=True)
    inner = state.get(key)
    return dict(inner if isinstance(inner, Mapping) else state)
