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
from typing import Any

import torch
import torch.nn as nn
from ignite.engine import Engine, Events
from monai.engines import SupervisedEvaluator
from monai.engines.utils import PrepareBatch
from monai.utils import look_up_option

from monai_mammo.engines.cross_training import CROSS_MODALITIES, ModalityPrepareBatch
from monai_mammo.networks.weight_transfer import BatchNormMode, interpolate_weights, recompute_batch_norm
from monai_mammo.networks.weights import load_network_state

__all__ = ["CrossModalTransfer"]

logger = logging.getLogger(__name__)


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
        self.prepare = prepare_batch or ModalityPrepareBatch(getattr(network, "modalities", CROSS_MODALITIES))
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
