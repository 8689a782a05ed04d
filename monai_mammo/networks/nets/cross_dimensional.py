# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""Cross-dimensional classifier: one shared encoder, modality-specific batch norm, adapters and heads.

References:
    Inbaraj et al., "Cross-dimensional transfer learning between mammography and ultrasound", 2025: one model
    learns from several modalities through shared representations, with modality-specific parts.

    Y. Li, N. Wang, J. Shi, J. Liu, X. Hou, "Revisiting Batch Normalization For Practical Domain Adaptation",
    ICLR workshop 2017 (AdaBN): batch-norm statistics per domain.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn as nn
from monai.networks.layers.factories import Act, Conv, Pool
from monai.networks.layers.utils import get_act_layer, get_norm_layer

from monai_mammo.networks.nets._checks import check_input, check_spatial_dims
from monai_mammo.networks.registry import get_network, register_network
from monai_mammo.utils import Modality

__all__ = ["CrossDimensionalClassifier", "ModalityBatchNorm", "SmallCNNClassifier", "modality_indices"]

_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@register_network(
    "small_cnn_classifier",
    example_kwargs={"num_classes": 3, "channels": (8, 16)},
    example_input_shape=(2, 1, 28, 28),
    example_output_shape=(2, 3),
)
class SmallCNNClassifier(nn.Module):
    """A small convolutional classifier (Conv-Norm-Act blocks with pooling) for tests and CPU experiments.

    It has the interface of the other classifiers (``forward_features``, ``forward_head``, ``reset_classifier``)
    so that :class:`CrossDimensionalClassifier` can use it as its shared encoder instead of ResNet-50.

    Args:
        spatial_dims: 2 or 3.
        in_channels: image channels.
        num_classes: outputs (0: identity, ``forward`` returns the pooled features).
        channels: output channels of the blocks; every block but the last halves the size.
        act: activation, name or ``(name, kwargs)``.
        norm: normalisation, name or ``(name, kwargs)``.
        dropout: dropout before the last layer.

    Example:
        >>> SmallCNNClassifier(num_classes=2, channels=(8, 16))(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 2])
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 3,
        channels: Sequence[int] = (16, 32, 64),
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.spatial_dims = check_spatial_dims(spatial_dims, "SmallCNNClassifier")
        if in_channels < 1 or num_classes < 0 or not channels or min(channels) < 1:
            raise ValueError(
                "SmallCNNClassifier: in_channels >= 1, num_classes >= 0 and non-empty positive channels expected, "
                f"got {in_channels}, {num_classes}, {tuple(channels)}."
            )
        self.in_channels = in_channels
        blocks: list[nn.Module] = []
        prev = in_channels
        for i, ch in enumerate(channels):
            blocks += [
                Conv[Conv.CONV, self.spatial_dims](prev, ch, kernel_size=3, padding=1, bias=False),
                get_norm_layer(norm, self.spatial_dims, ch),
                get_act_layer(act),
            ]
            if i < len(channels) - 1:
                blocks.append(Pool[Pool.MAX, self.spatial_dims](2))
            prev = ch
        self.features = nn.Sequential(*blocks)
        self.min_size = 2 ** (len(channels) - 1)
        self.num_features = self.head_features = prev
        self.global_pool = nn.Sequential(Pool[Pool.ADAPTIVEAVG, self.spatial_dims](1), nn.Flatten(1))
        self.drop = nn.Dropout(dropout)
        self.num_classes = num_classes
        self.classifier: nn.Module = nn.Linear(prev, num_classes) if num_classes > 0 else nn.Identity()

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the last layer by one with ``num_classes`` outputs (0: identity)."""
        if num_classes < 0:
            raise ValueError(f"SmallCNNClassifier: num_classes must be >= 0, got {num_classes}.")
        self.num_classes = num_classes
        self.classifier = nn.Linear(self.head_features, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The unpooled feature map."""
        check_input(x, self.in_channels, self.spatial_dims, "SmallCNNClassifier", self.min_size)
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool the feature map, then the last layer unless ``pre_logits``."""
        x = self.drop(self.global_pool(x))
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class ModalityBatchNorm(nn.Module):
    """Batch norm with separate statistics and affine parameters per modality (AdaBN-style).

    It holds one copy of a batch-norm layer per modality; :attr:`active` (set by
    :class:`CrossDimensionalClassifier` before each pass) picks the copy used.

    Args:
        norm: the batch-norm layer to copy (its settings and, if trained, its state).
        num_modalities: number of copies.
    """

    def __init__(self, norm: nn.Module, num_modalities: int) -> None:
        super().__init__()
        if not isinstance(norm, _BATCH_NORMS):
            raise TypeError(f"ModalityBatchNorm: norm must be a torch batch-norm layer, got {type(norm).__name__}.")
        self.norms = nn.ModuleList([copy.deepcopy(norm) for _ in range(num_modalities)])
        self.active = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norms[self.active](x)


def _replace_batch_norms(module: nn.Module, num_modalities: int) -> int:
    """Replace every batch-norm layer below ``module`` by a :class:`ModalityBatchNorm`; returns how many."""
    count = 0
    for name, child in module.named_children():
        if isinstance(child, _BATCH_NORMS):
            setattr(module, name, ModalityBatchNorm(child, num_modalities))
            count += 1
        elif not isinstance(child, ModalityBatchNorm):
            count += _replace_batch_norms(child, num_modalities)
    return count


def modality_indices(
    modality: torch.Tensor | Sequence[str | int] | str | int | None,
    modalities: Sequence[str],
    batch_size: int,
    device: torch.device | None = None,
) -> torch.Tensor:
    """The modality of each image as indices into ``modalities``, a long tensor of shape (batch_size,).

    Args:
        modality: a tensor of indices (N,) or (N, 1); a list of names (``"MG"``, ``"US"``) or indices; one name or
            index for the whole batch; ``None``: the first of ``modalities`` for every image.
        modalities: the model's modality names.
        batch_size: N.
        device: device of the result.

    Raises:
        ValueError: an unknown name, an index out of range, or a length that is not ``batch_size``.
    """
    names = [str(m) for m in modalities]

    def index_of(m: Any) -> int:
        if isinstance(m, (int, torch.Tensor)) and not isinstance(m, bool):
            i = int(m)
            if not 0 <= i < len(names):
                raise ValueError(f"modality index {i} out of range for modalities {names}.")
            return i
        name = str(m.value if isinstance(m, Modality) else m).upper()
        if name not in names:
            raise ValueError(f"unknown modality {m!r}; this model has the modalities {names}.")
        return names.index(name)

    if modality is None:
        out = torch.zeros(batch_size, dtype=torch.long)
    elif isinstance(modality, torch.Tensor):
        out = modality.reshape(-1).long().cpu()
        if out.numel() == 1 and batch_size != 1:
            out = out.expand(batch_size).clone()
        if ((out < 0) | (out >= len(names))).any():
            raise ValueError(f"modality indices {out.tolist()} out of range for modalities {names}.")
    elif isinstance(modality, (str, int)):
        out = torch.full((batch_size,), index_of(modality), dtype=torch.long)
    else:
        out = torch.tensor([index_of(m) for m in modality], dtype=torch.long)
    if out.numel() != batch_size:
        raise ValueError(f"modality gives {out.numel()} values for a batch of {batch_size} images.")
    return out.to(device) if device is not None else out


class _Adapter(nn.Module):
    """Residual bottleneck adapter: x + W2 act(W1 x), W2 starting at zero (the identity at start)."""

    def __init__(self, features: int, reduction: int, act: str | tuple) -> None:
        super().__init__()
        hidden = max(1, features // reduction)
        self.down, self.act, self.up = nn.Linear(features, hidden), get_act_layer(act), nn.Linear(hidden, features)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(self.act(self.down(x)))


@register_network(
    "cross_dimensional_classifier",
    example_kwargs={"backbone": "small_cnn_classifier", "backbone_kwargs": {"channels": (8, 16)}, "modalities": ["US"]},
    example_input_shape=(2, 1, 28, 28),
    example_output_shape=(2, 3),
)
class CrossDimensionalClassifier(nn.Module):
    """Shared encoder with modality-specific batch norm, adapters and heads (Inbaraj et al., 2025).

    The encoder is any registered classifier with the ``forward_features`` / ``forward_head`` / ``reset_classifier``
    interface (ResNet-50 by default; ``"small_cnn_classifier"`` for tests and CPU runs). Its last layer is removed
    (``reset_classifier(0)``) and its pre-logits are the shared representation. Modality-specific parts:

    - ``modality_norm``: every batch-norm layer of the encoder becomes a :class:`ModalityBatchNorm`, so each
      modality has its own running statistics and affine parameters while all convolutions are shared;
    - ``adapter``: a residual bottleneck adapter per modality on the shared representation;
    - a head (dropout + linear) per modality, with its own number of classes if ``num_classes`` is a mapping.

    ``forward(x, modality)`` takes the modality of each image from the batch: a tensor of indices into
    ``modalities`` or a list of names (``"MG"``, ``"US"``). A mixed batch is split by modality, each part runs
    through the encoder with its own batch norm (in training mode each modality's batch statistics are its own)
    and its own head, and the logits come back in the batch order. With ``modality=None`` every image is taken as
    the first modality. When the heads have different numbers of classes, the logits are padded with ``-inf`` to
    the largest (softmax then gives the padded classes probability 0).

    Args:
        backbone: registered name of the encoder (see :func:`monai_mammo.networks.list_networks`).
        backbone_kwargs: more arguments of the encoder (e.g. ``{"channels": (16, 32, 64)}``,
            ``{"freeze_until": "layer2"}``, ``{"pretrained_weights": "resnet50.pth"}``).
        spatial_dims: 2 or 3, passed to the encoder.
        in_channels: image channels, passed to the encoder.
        num_classes: classes of every head, or a mapping modality name -> classes.
        modalities: the modality names; their order defines the indices.
        modality_norm: per-modality batch norm in the encoder.
        adapter: per-modality residual adapters.
        adapter_reduction: bottleneck reduction of the adapters.
        dropout: dropout before each head's linear layer.
        act: activation of the adapters, name or ``(name, kwargs)``.

    Raises:
        ValueError: an unknown backbone, a backbone without ``forward_features``, no or repeated modalities, or a
            bad number of classes.

    Example:
        >>> net = CrossDimensionalClassifier("small_cnn_classifier", num_classes=3)
        >>> net(torch.zeros(4, 1, 32, 32), ["MG", "US", "US", "MG"]).shape
        torch.Size([4, 3])
    """

    def __init__(
        self,
        backbone: str = "resnet50_classifier",
        backbone_kwargs: Mapping[str, Any] | None = None,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int | Mapping[str, int] = 3,
        modalities: Sequence[str] = (Modality.MG.value, Modality.US.value),
        modality_norm: bool = True,
        adapter: bool = True,
        adapter_reduction: int = 4,
        dropout: float = 0.2,
        act: str | tuple = Act.RELU,
    ) -> None:
        super().__init__()
        self.modalities = [str(m.value if isinstance(m, Modality) else m).upper() for m in modalities]
        if not self.modalities or len(set(self.modalities)) != len(self.modalities):
            raise ValueError(
                f"CrossDimensionalClassifier: modalities must be distinct and non-empty, got {modalities}."
            )
        counts = (
            {m: int(num_classes[m]) for m in self.modalities}
            if isinstance(num_classes, Mapping)
            else dict.fromkeys(self.modalities, int(num_classes))
        )
        if min(counts.values()) < 1:
            raise ValueError(f"CrossDimensionalClassifier: num_classes must be >= 1, got {num_classes}.")
        self.num_classes = counts
        self.encoder = get_network(
            backbone, spatial_dims=spatial_dims, in_channels=in_channels, **dict(backbone_kwargs or {})
        )
        for method in ("forward_features", "forward_head", "reset_classifier"):
            if not callable(getattr(self.encoder, method, None)):
                raise ValueError(f"CrossDimensionalClassifier: backbone {backbone!r} has no {method}() method.")
        self.encoder.reset_classifier(0)  # type: ignore[operator]
        features = getattr(self.encoder, "head_features", None) or getattr(self.encoder, "num_features", None)
        if not isinstance(features, int):
            raise ValueError(f"CrossDimensionalClassifier: backbone {backbone!r} must have head_features (an int).")
        self.num_features = features
        self.num_modality_norms = _replace_batch_norms(self.encoder, len(self.modalities)) if modality_norm else 0
        self.adapters = nn.ModuleDict(
            {m: _Adapter(features, adapter_reduction, act) if adapter else nn.Identity() for m in self.modalities}
        )
        self.heads = nn.ModuleDict(
            {m: nn.Sequential(nn.Dropout(dropout), nn.Linear(features, counts[m])) for m in self.modalities}
        )

    def set_modality(self, modality: int | str) -> None:
        """Route the encoder's :class:`ModalityBatchNorm` layers to ``modality`` (index or name)."""
        index = int(modality_indices(modality, self.modalities, 1)[0])
        for m in self.encoder.modules():
            if isinstance(m, ModalityBatchNorm):
                m.active = index

    def forward_modality(self, x: torch.Tensor, modality: int | str) -> torch.Tensor:
        """Logits of a batch of one modality, (N, num_classes[modality])."""
        index = int(modality_indices(modality, self.modalities, 1)[0])
        name = self.modalities[index]
        self.set_modality(index)
        feats = self.encoder.forward_head(self.encoder.forward_features(x), pre_logits=True)  # type: ignore[operator]
        return self.heads[name](self.adapters[name](feats))

    def forward(
        self, x: torch.Tensor, modality: torch.Tensor | Sequence[str | int] | str | int | None = None
    ) -> torch.Tensor:
        """Logits (N, max(num_classes)), each image through its modality's parts."""
        index = modality_indices(modality, self.modalities, x.shape[0])
        present = [int(i) for i in torch.unique(index)]
        if len(present) == 1 and self.num_classes[self.modalities[present[0]]] == max(self.num_classes.values()):
            return self.forward_modality(x, present[0])
        width = max(self.num_classes.values())
        out = x.new_full((x.shape[0], width), float("-inf"))
        for i in present:
            rows = (index == i).nonzero(as_tuple=True)[0].to(x.device)
            logits = self.forward_modality(x[rows], i)
            out[rows, : logits.shape[1]] = logits.to(out.dtype)
        return out
