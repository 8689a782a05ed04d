# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Phase 3 of cross-dimensional transfer learning (Inbaraj et al., 2025): the cross-modal weight transfer.

:class:`CrossModalTransfer` sets ``w' = a * w + (1 - a) * w_cross`` (``w``: the model fine-tuned on the target
modality, ``w_cross``: the one fine-tuned on the other, both by :mod:`monai_mammo.engines.cross_training`) over the
floating-point *parameters* (:func:`interpolate_weights`), for each ``a`` of a grid, evaluates on the target's
validation data and keeps the best ``a``. Buffers are not interpolated: integer buffers (``num_batches_tracked``)
are ``w``'s, and the batch-norm running statistics are either ``w``'s (``bn_mode="keep"``: with per-modality batch
norm they are the target modality's own) or recomputed on target training images (``bn_mode="recompute"``,
:func:`recompute_batch_norm`, AdaBN). :func:`save_network_state` / :func:`load_network_state` hand the phases'
weights over (atomic writes).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn
from ignite.engine import Engine, Events
from monai.engines import SupervisedEvaluator
from monai.engines.utils import PrepareBatch
from monai.utils import StrEnum, look_up_option

from monai_mammo.engines.cross_training import DEFAULT_MODALITIES, ModalityPrepareBatch
from monai_mammo.networks.nets.cross_dimensional import ModalityBatchNorm
from monai_mammo.utils import atomic_write

__all__ = [
    "BatchNormMode",
    "CrossModalTransfer",
    "interpolate_weights",
    "load_network_state",
    "recompute_batch_norm",
    "save_network_state",
]

logger = logging.getLogger(__name__)


class BatchNormMode(StrEnum):
    """Batch-norm running statistics after interpolation: ``w``'s, or recomputed on target images."""

    KEEP = "keep"
    RECOMPUTE = "recompute"


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
