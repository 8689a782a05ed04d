"""Cross-modal weight transfer ``w' = a * w + (1 - a) * w_cross`` and batch-norm statistics recomputed on the
target modality (Inbaraj et al., 2025)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn as nn
from monai.engines.utils import PrepareBatch
from monai.utils import StrEnum

from monai_mammo.networks.nets.cross_dimensional import ModalityBatchNorm

__all__ = ["BatchNormMode", "interpolate_weights", "recompute_batch_norm"]


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
