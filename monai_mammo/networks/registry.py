# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""A small registry of the networks of monai_mammo (in the manner of timm's ``register_model``).

Bundles name a network by its full dotted path (``monai_mammo.networks.nets.SRGANGenerator``); the registry
adds short names for scripts and the MONAI Label app, and lets one contract test run every network.

Example:
    >>> from monai_mammo.networks import get_network, list_networks
    >>> "srgan_generator" in list_networks()
    True
    >>> net = get_network("srgan_generator", scale_factor=2)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch.nn as nn
from monai.utils import look_up_option

__all__ = ["NetworkEntry", "get_network", "get_network_entry", "list_networks", "register_network"]

T = TypeVar("T", bound=Callable[..., nn.Module])


@dataclass(frozen=True)
class NetworkEntry:
    """What the registry knows about one network.

    Attributes:
        name: the registered short name.
        builder: the class (or factory function) that builds the network.
        example_kwargs: constructor arguments of a small instance, for tests and docs.
        example_input_shape: an input shape (batch first) that this small instance accepts.
        example_output_shape: the output shape for ``example_input_shape``.
    """

    name: str
    builder: Callable[..., nn.Module]
    example_kwargs: dict[str, Any] = field(default_factory=dict)
    example_input_shape: tuple[int, ...] | None = None
    example_output_shape: tuple[int, ...] | None = None


_REGISTRY: dict[str, NetworkEntry] = {}


def _qualified_name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def register_network(
    name: str,
    *,
    example_kwargs: dict[str, Any] | None = None,
    example_input_shape: Sequence[int] | None = None,
    example_output_shape: Sequence[int] | None = None,
) -> Callable[[T], T]:
    """Class (or factory) decorator that registers a network under ``name``.

    Args:
        name: short, unique name (lower case with underscores by convention).
        example_kwargs: constructor arguments of a small instance; the contract test builds it.
        example_input_shape: an input shape (batch first) the small instance accepts.
        example_output_shape: the output shape that input gives.

    Returns:
        the decorator; it returns the decorated object unchanged.

    Raises:
        ValueError: when ``name`` is empty or already registered for another object. Registering the same
            object again (for example after ``importlib.reload``) replaces the entry.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_network: name must be a non-empty string, got {name!r}.")

    def decorator(builder: T) -> T:
        old = _REGISTRY.get(name)
        if old is not None and _qualified_name(old.builder) != _qualified_name(builder):
            raise ValueError(
                f"register_network: the name {name!r} is already registered for {_qualified_name(old.builder)}; "
                f"cannot register {_qualified_name(builder)} under it."
            )
        _REGISTRY[name] = NetworkEntry(
            name=name,
            builder=builder,
            example_kwargs=dict(example_kwargs or {}),
            example_input_shape=None if example_input_shape is None else tuple(example_input_shape),
            example_output_shape=None if example_output_shape is None else tuple(example_output_shape),
        )
        return builder

    return decorator


def list_networks() -> list[str]:
    """Sorted names of all registered networks."""
    return sorted(_REGISTRY)


def get_network_entry(name: str) -> NetworkEntry:
    """The :class:`NetworkEntry` of ``name``.

    Raises:
        ValueError: unknown ``name``; the message lists the registered names and suggests the closest one.
    """
    names = list_networks()
    try:
        key = look_up_option(name, names)
    except ValueError:
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Unknown network name {name!r}.{hint} Registered networks: {names}.") from None
    return _REGISTRY[key]


def get_network(name: str, **kwargs: Any) -> nn.Module:
    """Build the network registered as ``name`` with ``kwargs``.

    Raises:
        ValueError: unknown ``name`` (the message suggests the closest registered name).
    """
    return get_network_entry(name).builder(**kwargs)
