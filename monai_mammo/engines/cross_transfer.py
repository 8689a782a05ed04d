# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""The three phases of cross-dimensional transfer learning (Inbaraj et al., 2025) as Ignite workflows.

1. **Pretraining** on mixed mammography and ultrasound: :class:`CrossModalTrainer` with the loss
   :class:`ModalitySumLoss` (the sum of the per-modality mean losses) and :class:`ModalityBalancedSampler`
   (as many images of each modality in every epoch).
2. **Fine-tuning per modality**: the same trainer on the data of one modality.
3. **Cross-modal transfer**: :class:`CrossModalTransfer` sets ``w' = a * w + (1 - a) * w_cross`` (``w``: the
   model fine-tuned on the target modality, ``w_cross``: the one fine-tuned on the other) over the floating-point
   *parameters* (:func:`interpolate_weights`), for each ``a`` of a grid, evaluates on the target's validation
   data and keeps the best ``a``. Buffers are not interpolated: integer buffers (``num_batches_tracked``) are
   ``w``'s, and the batch-norm running statistics are either ``w``'s (``bn_mode="keep"``: with per-modality
   batch norm they are the target modality's own) or recomputed on target training images
   (``bn_mode="recompute"``, :func:`recompute_batch_norm`, AdaBN).

The paper's equations are garbled (SPEC); we use z-score normalisation and ``lr = lr0 / (1 + beta * epoch)``
(:class:`InverseTimeDecay`). :func:`limited_label_subset` keeps a fraction of a modality's labels, by patient.
"""

from __future__ import annotations

import logging
import math
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from ignite.engine import Engine, Events
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.engines.utils import IterationEvents, PrepareBatch
from monai.utils import CommonKeys, StrEnum, look_up_option
from torch.utils.data import Sampler

from monai_mammo.networks.nets.cross_dimensional import ModalityBatchNorm, modality_indices
from monai_mammo.utils import MammoKeys, Modality, atomic_write

__all__ = [
    "BatchNormMode",
    "CrossModalTrainer",
    "CrossModalTransfer",
    "CrossTransferPhase",
    "InverseTimeDecay",
    "ModalityBalancedSampler",
    "ModalityPrepareBatch",
    "ModalitySumLoss",
    "interpolate_weights",
    "inverse_time_scheduler",
    "limited_label_subset",
    "load_network_state",
    "modality_items",
    "recompute_batch_norm",
    "save_network_state",
]

logger = logging.getLogger(__name__)
DEFAULT_MODALITIES = (Modality.MG.value, Modality.US.value)


class CrossTransferPhase(StrEnum):
    """The phases, also the run ids of ``bundles/breast_cross_transfer``."""

    PRETRAIN = "pretrain"
    FINETUNE = "finetune"
    TRANSFER = "transfer"


class BatchNormMode(StrEnum):
    """Batch-norm running statistics after interpolation: ``w``'s, or recomputed on target images."""

    KEEP = "keep"
    RECOMPUTE = "recompute"


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


def interpolate_weights(
    state: Mapping[str, torch.Tensor],
    cross_state: Mapping[str, torch.Tensor],
    alpha: float,
    names: Sequence[str] | None = None,
) -> dict[str, torch.Tensor]:
    """``w' = alpha * w + (1 - alpha) * w_cross`` for the floating-point entries in ``names``.

    Entries that are not floating point (e.g. ``num_batches_tracked``) or not in ``names`` are copied from
    ``state``. ``alpha = 1`` gives ``state`` and ``alpha = 0`` gives ``cross_state`` exactly.

    Args:
        state: ``w``, the target model's state dict.
        cross_state: ``w_cross``, the other model's state dict (same keys and shapes).
        alpha: in [0, 1].
        names: keys to interpolate (default: every floating-point entry); pass the network's parameter names to
            leave its buffers alone.

    Raises:
        ValueError: ``alpha`` outside [0, 1]; keys or shapes that differ.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"interpolate_weights: alpha must lie in [0, 1], got {alpha}.")
    if set(state) != set(cross_state):
        diff = sorted(set(state) ^ set(cross_state))
        raise ValueError(f"interpolate_weights: the state dicts have different keys, e.g. {diff[:5]}.")
    chosen = set(state) if names is None else set(names)
    a = float(alpha)
    out: dict[str, torch.Tensor] = {}
    for key, w in state.items():
        wc = cross_state[key]
        if w.shape != wc.shape:
            raise ValueError(f"interpolate_weights: {key!r} has shapes {tuple(w.shape)} and {tuple(wc.shape)}.")
        if key not in chosen or not w.is_floating_point():
            out[key] = w.detach().clone()
        elif a == 1.0 or a == 0.0:  # the endpoints exactly (a * w + (1 - a) * w_cross can round otherwise)
            out[key] = (w if a == 1.0 else wc).detach().clone().to(w.dtype)
        else:
            out[key] = (a * w.detach() + (1.0 - a) * wc.detach().to(w.dtype)).to(w.dtype)
    return out


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


@torch.no_grad()
def recompute_batch_norm(
    network: nn.Module,
    data_loader: Any,
    prepare_batch: PrepareBatch,
    device: str | torch.device = "cpu",
    max_batches: int | None = None,
) -> None:
    """Recompute batch-norm running statistics on ``data_loader`` (cumulative average, no gradients; AdaBN).

    With :class:`~monai_mammo.networks.nets.ModalityBatchNorm` only the statistics of the modalities present in the
    data are reset and recomputed; the others are kept.
    """
    batches = (
        list(data_loader) if max_batches is None else [b for _, b in zip(range(max_batches), data_loader, strict=False)]
    )
    present: set[int] = set()
    prepared = []
    for batch in batches:
        image, _, args, kwargs = prepare_batch(batch, device)
        present |= set(torch.unique(kwargs["modality"]).tolist()) if "modality" in kwargs else {0}
        prepared.append((image, args, kwargs))
    inner = {id(n) for m in network.modules() if isinstance(m, ModalityBatchNorm) for n in m.norms}
    norms: list[nn.Module] = []
    for m in network.modules():
        if isinstance(m, ModalityBatchNorm):
            norms += [n for i, n in enumerate(m.norms) if i in present]
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and id(m) not in inner:
            norms.append(m)
    saved = [(n, n.momentum, n.training) for n in norms]
    was_training = network.training
    network.eval()
    for n in norms:
        n.reset_running_stats()  # type: ignore[operator]
        n.momentum = None  # type: ignore[assignment]  # cumulative moving average over the batches
        n.train()
    for image, args, kwargs in prepared:
        network(image, *args, **kwargs)
    for n, momentum, training in saved:
        n.momentum = momentum
        n.train(training)
    network.train(was_training)


class CrossModalTransfer(Engine):
    """Phase 3: interpolate ``w' = a * w + (1 - a) * w_cross`` and pick ``a`` on validation data (an Ignite Engine).

    Each iteration takes one ``a`` of ``alphas``: loads :func:`interpolate_weights` of the two state dicts
    (parameters only) into ``network``, recomputes the batch-norm statistics if ``bn_mode="recompute"``, runs
    ``evaluator`` (target validation data) and records its key metric. When the grid is done the best ``a``
    (ties: the larger, closer to the target model) is loaded into ``network``; ``state.metrics`` holds ``alpha``
    and ``val_metric``, ``state.scores`` every ``{a: metric}``. Attach a checkpoint saver to save the result.

    Args:
        network: the (unwrapped) :class:`~monai_mammo.networks.nets.CrossDimensionalClassifier`.
        target_state: ``w`` (fine-tuned on the target modality): a state dict or a checkpoint path, read at start.
        cross_state: ``w_cross`` (fine-tuned on the other modality).
        evaluator: a MONAI ``SupervisedEvaluator`` on the target's validation data, with a key metric.
        alphas: the grid of ``a`` in [0, 1].
        bn_mode: :class:`BatchNormMode` ``"keep"`` or ``"recompute"``.
        bn_loader: target training images for ``"recompute"``.
        prepare_batch: for ``bn_loader`` (default :class:`ModalityPrepareBatch`).
        device: device of the batch-norm pass.
    """

    def __init__(
        self,
        network: nn.Module,
        target_state: str | os.PathLike | Mapping[str, Any],
        cross_state: str | os.PathLike | Mapping[str, Any],
        evaluator: SupervisedEvaluator,
        alphas: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
        bn_mode: BatchNormMode | str = BatchNormMode.KEEP,
        bn_loader: Any = None,
        prepare_batch: PrepareBatch | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(self._step)
        if not alphas or any(not 0.0 <= float(a) <= 1.0 for a in alphas):
            raise ValueError(f"CrossModalTransfer: alphas must be a non-empty grid in [0, 1], got {alphas}.")
        self.bn_mode = BatchNormMode(look_up_option(bn_mode, BatchNormMode))
        if self.bn_mode == BatchNormMode.RECOMPUTE and bn_loader is None:
            raise ValueError("CrossModalTransfer: bn_mode='recompute' needs bn_loader (target training images).")
        self.network, self.evaluator, self.alphas = network, evaluator, [float(a) for a in alphas]
        self.sources = (target_state, cross_state)
        self.bn_loader, self.device = bn_loader, device
        self.prepare = prepare_batch or ModalityPrepareBatch(getattr(network, "modalities", DEFAULT_MODALITIES))
        self.param_names = [n for n, _ in network.named_parameters()]
        self.states: tuple[dict[str, Any], dict[str, Any]] | None = None
        self.add_event_handler(Events.STARTED, self._load_states)
        self.add_event_handler(Events.COMPLETED, self._choose)

    def _load_states(self, engine: Engine) -> None:
        self.states = (load_network_state(self.sources[0]), load_network_state(self.sources[1]))
        engine.state.scores = {}  # type: ignore[attr-defined]

    def _apply(self, alpha: float) -> None:
        assert self.states is not None
        self.network.load_state_dict(interpolate_weights(*self.states, alpha, names=self.param_names))
        if self.bn_mode == BatchNormMode.RECOMPUTE:
            recompute_batch_norm(self.network, self.bn_loader, self.prepare, self.device)

    def _step(self, engine: Engine, alpha: float) -> dict[str, float]:
        self._apply(float(alpha))
        self.evaluator.run()
        score = float(self.evaluator.state.metrics[self.evaluator.state.key_metric_name])
        engine.state.scores[float(alpha)] = score  # type: ignore[attr-defined]
        logger.info(
            "cross-modal transfer: a=%.3f  validation %s=%.4f", alpha, self.evaluator.state.key_metric_name, score
        )
        return {"alpha": float(alpha), "val_metric": score}

    def _choose(self, engine: Engine) -> None:
        scores: dict[float, float] = engine.state.scores  # type: ignore[attr-defined]
        finite = {a: s for a, s in scores.items() if not math.isnan(s)} or scores
        best = max(finite, key=lambda a: (finite[a], a))
        self._apply(best)
        engine.state.metrics = {"alpha": best, "val_metric": scores[best]}
        logger.info("cross-modal transfer: chose a=%.3f (validation %.4f)", best, scores[best])

    def run(self, data: Any = None, max_epochs: int = 1, **kwargs: Any) -> Any:  # type: ignore[override]
        """Run over the grid (``data`` defaults to ``alphas``)."""
        return super().run(self.alphas if data is None else data, max_epochs=max_epochs, **kwargs)


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
