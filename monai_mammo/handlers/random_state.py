"""Random number generator states as a checkpoint object, so that a resumed training draws what the run would have.

A training resumed from an epoch checkpoint restores the network, the optimiser and the engine, but its random
draws start where the new process left them: the data loader's shuffle (torch's global generator), dropout, the
random transforms (each MONAI ``Randomizable`` holds its own numpy ``RandomState``, reseeded when a ``DataLoader`` is
built) and any sampler's ``torch.Generator``. :class:`RandomStates` saves all of them with the checkpoint and puts
them back on resume; a run stopped anywhere and resumed from its last epoch checkpoint then ends with the weights of
one that ran straight through.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.transforms import Randomizable

__all__ = ["RandomStates"]

_LEAVES = (str, bytes, int, float, bool, torch.Tensor, np.ndarray, Mapping, torch.nn.Module)


def _numpy_state(state: tuple) -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = state
    return {"name": name, "keys": torch.as_tensor(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}  # fmt: skip


def _numpy_tuple(state: Mapping[str, Any]) -> tuple:
    keys = np.asarray(torch.as_tensor(state["keys"]).cpu().numpy(), dtype=np.uint32)
    return state["name"], keys, int(state["pos"]), int(state["has_gauss"]), float(state["cached"])


class RandomStates:
    """The states of every random number generator a training draws from, with ``state_dict`` /
    ``load_state_dict`` for a checkpoint's ``save_dict`` (and ``ResumeFromCheckpoint``'s ``load_dict``).

    Saved: torch's global generator (CPU, and CUDA's when initialised), numpy's and Python's global generators,
    the ``RandomState`` of every MONAI ``Randomizable`` found in ``objects`` (their attributes and lists are
    searched, as MONAI's ``set_rnd`` does: e.g. a dataset's ``Compose`` and its random transforms) and every
    ``torch.Generator`` attribute there (e.g. a sampler's ``generator``).

    Args:
        objects: datasets, samplers, transforms whose generators to include (``None`` entries are skipped).

    Example:
        >>> save_dict = {"trainer": trainer, "network": net, "rng": RandomStates([train_ds, sampler])}  # doctest: +SKIP
    """

    def __init__(self, objects: Sequence[Any] = ()) -> None:
        self.objects = [o for o in objects if o is not None]

    def _walk(self) -> Iterator[Any]:
        seen: set[int] = set()
        stack = list(reversed(self.objects))
        while stack:
            obj = stack.pop()
            if id(obj) in seen or obj is None:
                continue
            seen.add(id(obj))
            if isinstance(obj, (Randomizable, torch.Generator)):
                yield obj
            if isinstance(obj, _LEAVES) or isinstance(obj, torch.Generator):
                continue
            if isinstance(obj, (list, tuple)):
                children = list(obj)
            elif hasattr(obj, "__dict__"):
                children = [v for k, v in vars(obj).items() if not k.startswith("__")]
            else:
                continue
            stack.extend(reversed(children))

    def state_dict(self) -> dict[str, Any]:
        transforms, generators = [], []
        for obj in self._walk():
            if isinstance(obj, torch.Generator):
                generators.append(obj.get_state())
            else:
                transforms.append(_numpy_state(obj.R.get_state()))
        state: dict[str, Any] = {
            "torch": torch.get_rng_state(),
            "numpy": _numpy_state(np.random.get_state(legacy=True)),  # type: ignore[arg-type]  # noqa: NPY002
            "random": list(random.getstate()[1]),
            "random_gauss": random.getstate()[2],
            "transforms": transforms,
            "generators": generators,
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the states saved by :meth:`state_dict`.

        Raises:
            ValueError: the objects hold another number of random transforms or generators than the saved ones
                (a checkpoint of another configuration).
        """
        found = list(self._walk())
        transforms = [o for o in found if not isinstance(o, torch.Generator)]
        generators = [o for o in found if isinstance(o, torch.Generator)]
        if len(transforms) != len(state["transforms"]) or len(generators) != len(state["generators"]):
            raise ValueError(
                f"the checkpoint holds the random states of {len(state['transforms'])} transforms and "
                f"{len(state['generators'])} generators, this run has {len(transforms)} and {len(generators)}."
            )
        torch.set_rng_state(torch.as_tensor(state["torch"]).cpu())
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([torch.as_tensor(s).cpu() for s in state["cuda"]])
        np.random.set_state(_numpy_tuple(state["numpy"]))  # noqa: NPY002
        random.setstate((3, tuple(int(v) for v in state["random"]), state["random_gauss"]))
        for obj, saved in zip(transforms, state["transforms"], strict=True):
            obj.R.set_state(_numpy_tuple(saved))
        for gen, saved in zip(generators, state["generators"], strict=True):
            gen.set_state(torch.as_tensor(saved).cpu())
