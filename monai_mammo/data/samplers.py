"""Training samplers and class weights: class imbalance (weighted loss or balanced sampling) and modality balance."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from monai.data import DistributedWeightedRandomSampler
from monai.utils import StrEnum, look_up_option
from torch.utils.data import Sampler, WeightedRandomSampler

from monai_mammo.utils import MammoKeys

__all__ = [
    "Imbalance",
    "ModalityBalancedSampler",
    "class_counts",
    "class_weights",
    "imbalance_loss_weights",
    "imbalance_sampler",
]


logger = logging.getLogger(__name__)


class Imbalance(StrEnum):
    """How a training compensates for unequal class sizes."""

    WEIGHTS = "weights"  # weighted cross-entropy, weights inversely proportional to the class sizes
    SAMPLER = "sampler"  # balanced sampling: each class drawn equally often (with replacement)
    NONE = "none"


def class_counts(
    items: Sequence[Mapping[str, Any]], num_classes: int, label_key: str = MammoKeys.LABEL.value
) -> np.ndarray:
    """Number of items per class ``0 .. num_classes - 1``.

    Raises:
        ValueError: a label outside ``[0, num_classes)``.
    """
    labels = np.asarray([int(item[label_key]) for item in items], dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {sorted(set(labels.tolist()))}.")
    return np.bincount(labels, minlength=num_classes)


def class_weights(
    items: Sequence[Mapping[str, Any]], num_classes: int, label_key: str = MammoKeys.LABEL.value
) -> torch.Tensor:
    """Loss weights ``n / (num_classes * n_c)`` (scikit-learn's "balanced"): 1 for every class when balanced.

    A class without items gets weight 0 (it cannot be predicted from this data anyway).
    """
    counts = class_counts(items, num_classes, label_key).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (num_classes * np.maximum(counts, 1)), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32)


def imbalance_loss_weights(
    items: Sequence[Mapping[str, Any]],
    num_classes: int,
    imbalance: Imbalance | str = Imbalance.WEIGHTS,
    label_key: str = MammoKeys.LABEL.value,
    device: str | torch.device | None = None,
) -> torch.Tensor | None:
    """The ``weight`` of ``torch.nn.CrossEntropyLoss``: :func:`class_weights` for ``"weights"``, else ``None``."""
    mode = Imbalance(look_up_option(imbalance, Imbalance))
    if mode != Imbalance.WEIGHTS:
        return None
    weights = class_weights(items, num_classes, label_key)
    logger.info("class weights of the loss: %s", [round(float(w), 3) for w in weights])
    return weights.to(device) if device is not None else weights


def imbalance_sampler(
    items: Sequence[Mapping[str, Any]],
    num_classes: int,
    imbalance: Imbalance | str = Imbalance.WEIGHTS,
    distributed: bool = False,
    label_key: str = MammoKeys.LABEL.value,
    seed: int = 0,
) -> Sampler | None:
    """The training sampler: balanced for ``"sampler"``; under ``distributed`` a per-rank sampler in any case.

    Args:
        items: the training items, in the order of the dataset.
        num_classes: number of classes.
        imbalance: :class:`Imbalance`.
        distributed: one shard per rank (``torch.distributed`` must be initialised): MONAI's
            ``DistributedWeightedRandomSampler`` when balancing, else ``DistributedSampler`` (shuffled).
        label_key: item key of the label.
        seed: seed of the draws of the distributed samplers.

    Returns:
        A sampler for the ``DataLoader`` (then ``shuffle=False``), or ``None``: shuffle as usual.
    """
    mode = Imbalance(look_up_option(imbalance, Imbalance))
    if mode == Imbalance.SAMPLER:
        counts = class_counts(items, num_classes, label_key)
        per_item = [1.0 / counts[int(item[label_key])] for item in items]
        if distributed:
            return DistributedWeightedRandomSampler(
                dataset=items,  # type: ignore[arg-type]  # only its length is used
                weights=per_item,
                num_samples_per_rank=None,
                shuffle=True,
                seed=seed,
            )
        return WeightedRandomSampler(per_item, num_samples=len(items), replacement=True)
    if distributed:
        return torch.utils.data.DistributedSampler(items, shuffle=True, seed=seed)  # type: ignore[arg-type]
    return None


class ModalityBalancedSampler(Sampler[int]):
    """Draw as many images of each modality per epoch, interleaved so that every batch is balanced.

    Each modality contributes ``num_per_modality`` indices (default: the size of the largest modality; a smaller
    one is cycled through fresh permutations). The order depends only on ``seed`` and the epoch
    (:meth:`set_epoch`, called by MONAI's engines through ``DistributedSampler``'s protocol). Under
    ``torch.distributed`` each rank takes every ``num_replicas``-th index.

    Args:
        modalities: the modality of each dataset item (names or indices).
        num_per_modality: indices per modality per epoch.
        seed: base seed.
        num_replicas, rank: distributed settings (default: from ``torch.distributed`` when initialised).

    Raises:
        ValueError: empty ``modalities``.
    """

    def __init__(
        self,
        modalities: Sequence[Any],
        num_per_modality: int | None = None,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        if len(modalities) == 0:
            raise ValueError("ModalityBalancedSampler: modalities (one per dataset item) must not be empty.")
        groups: dict[str, list[int]] = defaultdict(list)
        for i, m in enumerate(modalities):
            groups[str(m)].append(i)
        self.groups = [np.asarray(groups[k]) for k in sorted(groups)]
        self.num_per_modality = int(num_per_modality or max(len(g) for g in self.groups))
        distributed = dist.is_available() and dist.is_initialized()
        self.num_replicas = num_replicas if num_replicas is not None else (dist.get_world_size() if distributed else 1)
        self.rank = rank if rank is not None else (dist.get_rank() if distributed else 0)
        self.seed, self.epoch = int(seed), 0
        self.total = self.num_per_modality * len(self.groups)
        self.num_samples = math.ceil(self.total / self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        drawn = []
        for g in self.groups:
            reps = math.ceil(self.num_per_modality / len(g))
            drawn.append(np.concatenate([g[rng.permutation(len(g))] for _ in range(reps)])[: self.num_per_modality])
        order = np.stack(drawn, axis=1).reshape(-1)  # m0, m1, m0, m1, ...
        padded = np.resize(order, self.num_samples * self.num_replicas)  # repeat the start to divide evenly
        return iter(padded[self.rank :: self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples
