# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Phases 1 and 2 of cross-dimensional transfer learning (Inbaraj et al., 2025) as Ignite workflows.

1. **Pretraining** on mixed mammography and ultrasound: :class:`CrossModalTrainer` with the loss
   :class:`ModalitySumLoss` (the sum of the per-modality mean losses) and :class:`ModalityBalancedSampler`
   (as many images of each modality in every epoch).
2. **Fine-tuning per modality**: the same trainer on the data of one modality.

Phase 3, the cross-modal weight transfer, is in :mod:`monai_mammo.engines.cross_transfer`. The paper's equations
are garbled (SPEC); we use z-score normalisation and ``lr = lr0 / (1 + beta * epoch)`` (:class:`InverseTimeDecay`).
:func:`limited_label_subset` keeps a fraction of a modality's labels, by patient; :func:`modality_items` selects
one modality's items.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from ignite.engine import Events
from monai.engines import SupervisedTrainer
from monai.engines.utils import IterationEvents, PrepareBatch
from monai.utils import CommonKeys, StrEnum
from torch.utils.data import Sampler

from monai_mammo.networks.nets.cross_dimensional import modality_indices
from monai_mammo.utils import MammoKeys, Modality

__all__ = [
    "DEFAULT_MODALITIES",
    "CrossModalTrainer",
    "CrossTransferPhase",
    "InverseTimeDecay",
    "ModalityBalancedSampler",
    "ModalityPrepareBatch",
    "ModalitySumLoss",
    "inverse_time_scheduler",
    "limited_label_subset",
    "modality_items",
]

logger = logging.getLogger(__name__)
DEFAULT_MODALITIES = (Modality.MG.value, Modality.US.value)


class CrossTransferPhase(StrEnum):
    """The phases, also the run ids of ``bundles/breast_cross_transfer``."""

    PRETRAIN = "pretrain"
    FINETUNE = "finetune"
    TRANSFER = "transfer"


class ModalityPrepareBatch(PrepareBatch):
    """``prepare_batch`` of MONAI engines that passes each image's modality to the network as ``modality=``.

    Returns ``(image, label, (), {"modality": indices})``, so MONAI's engines call
    ``network(image, modality=indices)``.

    Args:
        modalities: the network's modality names (their order gives the indices).
        image_key, label_key, modality_key: keys of the batch dictionary.
        default_modality: the modality of batches without ``modality_key`` (default: ``modalities[0]``).
    """

    def __init__(
        self,
        modalities: Sequence[str] = DEFAULT_MODALITIES,
        image_key: str = CommonKeys.IMAGE,
        label_key: str = CommonKeys.LABEL,
        modality_key: str = MammoKeys.MODALITY,
        default_modality: str | None = None,
    ) -> None:
        self.modalities = [str(m) for m in modalities]
        self.image_key, self.label_key, self.modality_key = image_key, label_key, modality_key
        self.default_modality = self.modalities[0] if default_modality is None else str(default_modality)
        modality_indices(self.default_modality, self.modalities, 1)  # check it

    def __call__(
        self,
        batchdata: dict[str, Any],
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None, tuple, dict[str, torch.Tensor]]:
        image = torch.as_tensor(batchdata[self.image_key]).to(device=device, non_blocking=non_blocking, **kwargs)
        label = batchdata.get(self.label_key)
        if label is not None:
            label = torch.as_tensor(label).reshape(-1).long().to(device=device, non_blocking=non_blocking)
        modality = modality_indices(
            batchdata.get(self.modality_key, self.default_modality), self.modalities, image.shape[0], image.device
        )
        return image, label, (), {"modality": modality}


class ModalitySumLoss(nn.Module):
    """Total loss = sum over the modalities in the batch of the loss within that modality (Inbaraj et al., 2025).

    Args:
        loss: per-modality loss ``loss(pred, target)`` with mean reduction (default cross-entropy).
        modalities: names, for the per-modality values returned.
    """

    def __init__(self, loss: nn.Module | None = None, modalities: Sequence[str] = DEFAULT_MODALITIES) -> None:
        super().__init__()
        self.loss = loss if loss is not None else nn.CrossEntropyLoss()
        self.modalities = [str(m) for m in modalities]

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, modality: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The total and ``{modality name: its loss}``; columns of ``pred`` that are ``-inf`` padding are dropped."""
        parts: dict[str, torch.Tensor] = {}
        for i in torch.unique(modality).tolist():
            rows = modality == i
            p = pred[rows]
            p = p[:, torch.isfinite(p).all(0)]
            parts[self.modalities[int(i)]] = self.loss(p, target[rows])
        total = torch.stack(list(parts.values())).sum()
        return total, parts


class CrossModalTrainer(SupervisedTrainer):
    """MONAI ``SupervisedTrainer`` whose iteration routes images by modality and sums the per-modality losses.

    Takes :class:`~monai.engines.SupervisedTrainer`'s arguments; ``prepare_batch`` defaults to
    :class:`ModalityPrepareBatch` and ``loss_function`` to :class:`ModalitySumLoss` (called as
    ``loss_function(pred, label, modality)`` and returning the total and the per-modality parts), and a
    :class:`ModalityBalancedSampler` of the data loader gets the epoch at each epoch start. Phase 1 gives
    it mixed data, phase 2 the data of one modality. ``engine.state.output`` holds ``image``, ``label``,
    ``pred``, ``loss`` (the total) and ``loss_<modality>``. ``amp`` runs the forward under CUDA autocast.
    Gradient accumulation and ``compile`` are not supported.

    Args:
        modalities: the network's modality names.
        kwargs: :class:`~monai.engines.SupervisedTrainer`'s arguments.
    """

    def __init__(self, *args: Any, modalities: Sequence[str] = DEFAULT_MODALITIES, **kwargs: Any) -> None:
        kwargs.setdefault("prepare_batch", ModalityPrepareBatch(modalities))
        kwargs.setdefault("loss_function", ModalitySumLoss(modalities=modalities))
        super().__init__(*args, **kwargs)
        sampler = getattr(self.data_loader, "sampler", None)
        if isinstance(sampler, ModalityBalancedSampler):  # MONAI's Workflow sets the epoch of DistributedSampler only
            self.add_event_handler(Events.EPOCH_STARTED, lambda engine: sampler.set_epoch(engine.state.epoch))

    def _iteration(self, engine: SupervisedTrainer, batchdata: dict[str, torch.Tensor]) -> dict:
        if batchdata is None:
            raise ValueError("Must provide batch data for current iteration.")
        inputs, targets, args, kwargs = engine.prepare_batch(
            batchdata, engine.state.device, engine.non_blocking, **engine.to_kwargs
        )
        modality = kwargs["modality"]
        output: dict[str, Any] = {CommonKeys.IMAGE: inputs, CommonKeys.LABEL: targets}
        engine.state.output = output

        def _compute_pred_loss() -> None:
            output[CommonKeys.PRED] = engine.inferer(inputs, engine.network, *args, **kwargs)
            engine.fire_event(IterationEvents.FORWARD_COMPLETED)
            total, parts = engine.loss_function(output[CommonKeys.PRED], targets, modality)
            output[CommonKeys.LOSS] = total
            output.update({f"loss_{name}": value.detach() for name, value in parts.items()})
            engine.fire_event(IterationEvents.LOSS_COMPLETED)

        engine.network.train()
        engine.optimizer.zero_grad(set_to_none=engine.optim_set_to_none)
        if engine.amp and engine.scaler is not None:
            with torch.autocast("cuda", **engine.amp_kwargs):
                _compute_pred_loss()
            engine.scaler.scale(output[CommonKeys.LOSS]).backward()
            engine.fire_event(IterationEvents.BACKWARD_COMPLETED)
            engine.scaler.step(engine.optimizer)
            engine.scaler.update()
        else:
            _compute_pred_loss()
            output[CommonKeys.LOSS].backward()
            engine.fire_event(IterationEvents.BACKWARD_COMPLETED)
            engine.optimizer.step()
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return output


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


class InverseTimeDecay:
    """``lr = lr0 / (1 + beta * epoch)`` as a picklable ``LambdaLR`` factor (so schedulers checkpoint and resume)."""

    def __init__(self, beta: float) -> None:
        if beta < 0:
            raise ValueError(f"InverseTimeDecay: beta must be >= 0, got {beta}.")
        self.beta = float(beta)

    def __call__(self, epoch: int) -> float:
        return 1.0 / (1.0 + self.beta * epoch)


def inverse_time_scheduler(optimizer: torch.optim.Optimizer, beta: float) -> torch.optim.lr_scheduler.LambdaLR:
    """``LambdaLR`` with :class:`InverseTimeDecay`; step it once per epoch (MONAI ``LrScheduleHandler``)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, InverseTimeDecay(beta))


def limited_label_subset(
    items: Sequence[Mapping[str, Any]],
    fraction: float,
    seed: int = 0,
    modality: str | None = None,
    label_key: str = MammoKeys.LABEL,
    group_key: str = MammoKeys.PATIENT_ID,
    modality_key: str = MammoKeys.MODALITY,
) -> list[dict[str, Any]]:
    """Keep ``fraction`` of the labelled items (of ``modality``, others all kept), chosen by patient, stratified.

    Items are grouped by ``group_key`` (each item its own group where it has none), a group's class is its
    largest label (a woman with a malignant image counts as malignant), and in each class
    ``max(1, round(fraction * groups))`` groups are drawn with ``seed``. The draw depends only on the items and
    ``seed``; the order of the items is kept. A smaller fraction's subset is inside a larger one's (same seed).

    Raises:
        ValueError: ``fraction`` not in (0, 1]; an item without ``label_key``.
    """
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f"limited_label_subset: fraction must lie in (0, 1], got {fraction}.")
    chosen = [i for i, it in enumerate(items) if modality is None or str(it.get(modality_key, "")).upper() == modality]
    groups: dict[str, list[int]] = defaultdict(list)
    for i in chosen:
        if label_key not in items[i]:
            raise ValueError(f"limited_label_subset: item {i} ({items[i].get('image')}) has no {label_key!r}.")
        gid = items[i].get(group_key)
        groups[str(gid) if gid not in (None, "") else f"__item_{i}"].append(i)
    strata: dict[int, list[str]] = defaultdict(list)
    for gid in sorted(groups):
        strata[max(int(items[i][label_key]) for i in groups[gid])].append(gid)
    keep: set[int] = set(range(len(items))) - set(chosen)
    for label in sorted(strata):
        gids = strata[label]
        rng = np.random.default_rng([int(seed), label])
        order = rng.permutation(len(gids))
        n = len(gids) if fraction >= 1.0 else max(1, round(fraction * len(gids)))
        for j in order[:n]:
            keep |= set(groups[gids[j]])
    return [dict(items[i]) for i in sorted(keep)]


def modality_items(
    items: Sequence[Mapping[str, Any]], modality: str, modality_key: str = MammoKeys.MODALITY
) -> list[dict[str, Any]]:
    """The items of one modality (names compared case-insensitively), copied.

    Raises:
        ValueError: an item without ``modality_key``; no item of ``modality`` (the message lists those found).
    """
    found: set[str] = set()
    out = []
    for i, item in enumerate(items):
        if modality_key not in item:
            raise ValueError(f"item {i} ({item.get('image')}) has no {modality_key!r}; cross transfer needs it.")
        found.add(str(item[modality_key]).upper())
        if str(item[modality_key]).upper() == str(modality).upper():
            out.append(dict(item))
    if not out:
        raise ValueError(f"no items of modality {modality!r}; the data has {sorted(found)}.")
    return out
