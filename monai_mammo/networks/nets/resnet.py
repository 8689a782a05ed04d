# Copyright (c) monai_mammo contributors
# Licensed under the Apache License, Version 2.0
"""ResNet-50 classifier with the head of SRGAN-STN-ResNet50, grayscale input and partial freezing.

References:
    K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
    https://arxiv.org/abs/1512.03385.

    Swapna & Vijaya Kumar, "SRGAN-STN-ResNet50" mammogram classification, 2026 (head 2048-256-128-N).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from monai.networks.layers.factories import Pool
from monai.networks.layers.utils import get_act_layer
from monai.networks.nets import ResNet
from monai.networks.nets.resnet import ResNetBottleneck
from monai.utils import StrEnum, look_up_option

from monai_mammo.networks.nets._checks import check_input, check_spatial_dims
from monai_mammo.networks.registry import register_network
from monai_mammo.networks.weights import RESNET50_IMAGENET_URL, load_matching_state_dict, load_state_dict_file

__all__ = ["AvgDownConv", "FreezeUntil", "ResNet50Classifier", "use_avg_down"]


class FreezeUntil(StrEnum):
    """How much of :class:`ResNet50Classifier` is frozen: everything up to and including the named stage."""

    NONE = "none"
    STEM = "stem"  # conv1 + bn1
    LAYER1 = "layer1"
    LAYER2 = "layer2"
    LAYER3 = "layer3"
    LAYER4 = "layer4"  # the whole backbone: only the head trains (linear probing)
    ALL = "all"  # backbone and head: nothing trains


_STAGES = ("stem", "layer1", "layer2", "layer3", "layer4", "head")


class AvgDownConv(nn.Module):
    """The projection shortcut of ResNet-D: average pooling over ``stride`` then a stride-1 1x1 convolution.

    He et al., "Bag of Tricks for Image Classification with Convolutional Neural Networks", CVPR 2019, sec. 4.1
    (ResNet-D): the plain strided 1x1 shortcut reads one pixel in four (2D) and ignores the rest; pooling first
    lets every pixel reach the next stage. The module holds the convolution's ``weight`` itself (no sub-module),
    so that a ResNet's ``downsample.0.weight`` keys, and torchvision's ImageNet files, load unchanged.
    MONAI's ResNet and torchvision's have no such option (timm's ``avg_down`` is the same idea).

    Args:
        conv: the strided 1x1 convolution it replaces (``nn.Conv2d`` or ``nn.Conv3d``, with or without bias, one
            group); its weight and bias are kept.
    """

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        if not isinstance(conv, (nn.Conv2d, nn.Conv3d)) or set(conv.kernel_size) != {1} or conv.groups != 1:
            raise ValueError(f"AvgDownConv: expected a 1x1 nn.Conv2d or nn.Conv3d with one group, got {conv}.")
        self.spatial_dims = 2 if isinstance(conv, nn.Conv2d) else 3
        self.stride = int(conv.stride[0])
        self.weight = conv.weight
        self.bias = conv.bias  # a Parameter or None: TorchScript types it per instance

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # ceil_mode=True, count_include_pad=False (timm's): an odd side keeps its last row, averaged alone
        if self.spatial_dims == 2:
            if self.stride > 1:
                x = F.avg_pool2d(x, self.stride, self.stride, 0, True, False)
            return F.conv2d(x, self.weight, self.bias)
        if self.stride > 1:
            x = F.avg_pool3d(x, self.stride, self.stride, 0, True, False)
        return F.conv3d(x, self.weight, self.bias)


def use_avg_down(resnet: nn.Module) -> nn.Module:
    """Give a MONAI ``ResNet`` (or torchvision's) ResNet-D shortcuts, in place: the first block of each stage that
    has a projection shortcut (``downsample``: a 1x1 convolution then a norm) gets :class:`AvgDownConv` in place of
    the convolution. Stages without one (ResNet-18's ``layer1``) are left as they are. Returns ``resnet``."""
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        shortcut = getattr(resnet.get_submodule(f"{stage}.0"), "downsample", None)
        if isinstance(shortcut, nn.Sequential) and isinstance(shortcut[0], (nn.Conv2d, nn.Conv3d)):
            shortcut[0] = AvgDownConv(shortcut[0])
    return resnet


@register_network(
    "resnet50_classifier",
    example_kwargs={"num_classes": 3},
    example_input_shape=(2, 1, 32, 32),
    example_output_shape=(2, 3),
)
class ResNet50Classifier(nn.Module):
    """ResNet-50 (bottleneck blocks [3, 4, 6, 3]) with the head 2048 -> 256 -> 128 -> ``num_classes``.

    The backbone is MONAI's :class:`monai.networks.nets.ResNet` configured as torchvision's ``resnet50`` (7x7
    stride-2 stem, max pooling, stride on the 3x3 convs, projection shortcuts without bias): its parameter
    names are torchvision's (``conv1.weight``, ``layer1.0.downsample.0.weight``, ...), so torchvision ImageNet
    files load as they are, from a local file only (``pretrained_weights``; ``fc.*`` is ignored). With
    ``in_channels=1`` the 3-channel ``conv1`` weights are summed over the input channels, which gives a gray
    image the features the RGB network gives to the same image repeated in R, G and B.

    The interface is timm's: :meth:`forward_features` returns the unpooled feature map (N, 2048, h, w),
    :meth:`forward_head` pools it and applies the head, :meth:`reset_classifier` replaces the last layer.

    ``freeze_until`` freezes the stages up to and including the named one (``"layer2"``: stem, layer1 and
    layer2 frozen; layer3, layer4 and the head train). Frozen parameters get ``requires_grad=False`` and their
    batch-norm layers stay in eval mode (running statistics kept) even under ``model.train()``.

    Args:
        spatial_dims: 2 or 3 (ImageNet weights exist only for 2).
        in_channels: image channels (1 for grayscale mammograms).
        num_classes: outputs of the last layer (3: normal, benign, malignant); 0 makes it an identity, so that
            ``forward`` returns the 128-d pre-logits.
        hidden_dims: widths of the head's hidden layers, each Linear-Act-Dropout.
        dropout: dropout probability of the head.
        act: activation of the backbone and head, name or ``(name, kwargs)``.
        norm: normalisation of the backbone, name or ``(name, kwargs)``.
        freeze_until: see :class:`FreezeUntil`: ``"none"``, ``"stem"``, ``"layer1"`` ... ``"layer4"``, ``"all"``.
        pretrained_weights: local torchvision-format ResNet-50 state dict (e.g. ``resnet50-0676ba61.pth``).
        zero_init_residual: start the last batch norm of every bottleneck at zero, so that each residual block
            begins as the identity (Goyal et al., "Accurate, Large Minibatch SGD", 2017, sec. 5.1; torchvision's
            option of the same name): a network trained from random weights learns markedly faster on small
            data. Weights loaded from ``pretrained_weights`` replace it.

    Raises:
        ValueError: a bad argument; weights whose keys or shapes do not match (the message lists them).
        FileNotFoundError: ``pretrained_weights`` is not a file.

    Example:
        >>> net = ResNet50Classifier(in_channels=1, num_classes=3, freeze_until="layer2")
        >>> net(torch.zeros(2, 1, 64, 64)).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 3,
        hidden_dims: Sequence[int] = (256, 128),
        dropout: float = 0.5,
        act: str | tuple = ("relu", {"inplace": True}),
        norm: str | tuple = "batch",
        freeze_until: str = FreezeUntil.NONE,
        pretrained_weights: str | os.PathLike | None = None,
        zero_init_residual: bool = True,
        avg_down: bool = False,
    ) -> None:
        super().__init__()
        self.spatial_dims = check_spatial_dims(spatial_dims, "ResNet50Classifier")
        if in_channels < 1 or num_classes < 0:
            raise ValueError(
                f"ResNet50Classifier: in_channels must be >= 1 and num_classes >= 0, got {in_channels}, {num_classes}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"ResNet50Classifier: dropout must lie in [0, 1), got {dropout}.")
        self.in_channels = in_channels
        self.min_size = 32  # the total stride: smaller inputs are down to 1x1 before layer4
        self.num_features = 2048
        self.backbone = ResNet(
            block="bottleneck",
            layers=[3, 4, 6, 3],
            block_inplanes=[64, 128, 256, 512],
            spatial_dims=self.spatial_dims,
            n_input_channels=in_channels,
            conv1_t_size=7,
            conv1_t_stride=2,
            shortcut_type="B",
            feed_forward=False,
            bias_downsample=False,
            act=act,
            norm=norm,
        )
        if avg_down:
            use_avg_down(self.backbone)
        self.global_pool = nn.Sequential(Pool[Pool.ADAPTIVEAVG, self.spatial_dims](1), nn.Flatten(1))
        layers: list[nn.Module] = []
        prev = self.num_features
        for width in hidden_dims:
            layers += [nn.Linear(prev, width), get_act_layer(act), nn.Dropout(dropout)]
            prev = width
        self.head_hidden = nn.Sequential(*layers)
        self.head_features = prev
        self.num_classes = num_classes
        self.classifier: nn.Module = nn.Linear(prev, num_classes) if num_classes > 0 else nn.Identity()
        if zero_init_residual:
            for block in self.backbone.modules():
                if isinstance(block, ResNetBottleneck):
                    nn.init.zeros_(block.bn3.weight)
        if pretrained_weights is not None:
            self.load_pretrained(pretrained_weights)
        self.frozen_stages: tuple[str, ...] = ()
        self.freeze(freeze_until)

    def load_pretrained(self, path: str | os.PathLike) -> None:
        """Load a torchvision-format ResNet-50 state dict into the backbone (``fc.*`` ignored, ``conv1`` adapted).

        Raises:
            FileNotFoundError: no file at ``path`` (the message says where torchvision's file is).
            ValueError: keys or shapes that do not match, listed.
        """
        hint = f"Download torchvision's ResNet-50 ImageNet weights once ({RESNET50_IMAGENET_URL}) and pass the path."
        sd = load_state_dict_file(path, "pretrained_weights", hint)
        load_matching_state_dict(
            self.backbone,
            sd,
            f"pretrained_weights {os.fspath(path)!r}",
            ignore_prefixes=("fc.",),
            adapt_keys=("conv1.weight",),
        )

    def _stage_modules(self, stage: str) -> list[nn.Module]:
        b = self.backbone
        return {
            "stem": [b.conv1, b.bn1],
            "layer1": [b.layer1],
            "layer2": [b.layer2],
            "layer3": [b.layer3],
            "layer4": [b.layer4],
            "head": [self.head_hidden, self.classifier],
        }[stage]

    def freeze(self, freeze_until: str = FreezeUntil.NONE) -> None:
        """Freeze the stages up to and including ``freeze_until`` and unfreeze the others (see :class:`FreezeUntil`).

        Raises:
            ValueError: ``freeze_until`` not one of :class:`FreezeUntil` (the message lists them).
        """
        try:
            until = FreezeUntil(look_up_option(freeze_until, FreezeUntil))
        except ValueError as e:
            raise ValueError(f"ResNet50Classifier: invalid freeze_until={freeze_until!r}. {e}") from None
        n = {"none": 0, "stem": 1, "layer1": 2, "layer2": 3, "layer3": 4, "layer4": 5, "all": 6}[until.value]
        self.frozen_stages = _STAGES[:n]
        for stage in _STAGES:
            for m in self._stage_modules(stage):
                m.requires_grad_(stage not in self.frozen_stages)
        self.train(self.training)

    def train(self, mode: bool = True) -> ResNet50Classifier:
        """Set train/eval mode; frozen stages always stay in eval mode (batch-norm statistics kept)."""
        super().train(mode)
        for stage in getattr(self, "frozen_stages", ()):
            for m in self._stage_modules(stage):
                m.eval()
        return self

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the last layer by a new one with ``num_classes`` outputs (0: identity, pre-logits out)."""
        if num_classes < 0:
            raise ValueError(f"ResNet50Classifier: num_classes must be >= 0, got {num_classes}.")
        self.num_classes = num_classes
        self.classifier = nn.Linear(self.head_features, num_classes) if num_classes > 0 else nn.Identity()
        if "head" in self.frozen_stages:
            self.classifier.requires_grad_(False)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The unpooled layer4 feature map, (N, 2048, H/32, W/32) (timm's convention)."""
        check_input(x, self.in_channels, self.spatial_dims, "ResNet50Classifier", self.min_size)
        b = self.backbone
        x = b.maxpool(b.act(b.bn1(b.conv1(x))))
        return b.layer4(b.layer3(b.layer2(b.layer1(x))))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool the feature map and apply the head; ``pre_logits=True`` stops before the last layer (N, 128)."""
        x = self.head_hidden(self.global_pool(x))
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, (N, num_classes)."""
        return self.forward_head(self.forward_features(x))
