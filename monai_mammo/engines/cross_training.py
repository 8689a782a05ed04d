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
from collections.abc import Sequence
from typing import Any

import torch
from ignite.engine import Events
from monai.engines import SupervisedTrainer
from monai.engines.utils import IterationEvents, PrepareBatch
from monai.utils import CommonKeys, StrEnum

from monai_mammo.data.samplers import ModalityBalancedSampler
from monai_mammo.losses import ModalitySumLoss
from monai_mammo.networks.nets.cross_dimensional import modality_indices
from monai_mammo.utils import CROSS_MODALITIES, MammoKeys

__all__ = ["CROSS_MODALITIES", "CrossModalTrainer", "CrossTransferPhase", "ModalityPrepareBatch"]

logger = logging.getLogger(__name__)


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
        modalities: Sequence[str] = CROSS_MODALITIES,
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

    def __init__(self, *args: Any, modalities: Sequence[str] = CROSS_MODALITIES, **kwargs: Any) -> None:
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
