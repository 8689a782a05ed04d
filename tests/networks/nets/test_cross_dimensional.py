"""CrossDimensionalClassifier: routing by modality, per-modality batch norm and heads, backbones."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.networks import get_network, list_networks
from monai_mammo.networks.nets import CrossDimensionalClassifier, ModalityBatchNorm, SmallCNNClassifier
from monai_mammo.networks.nets.cross_dimensional import modality_indices

SMALL = {"backbone": "small_cnn_classifier", "backbone_kwargs": {"channels": (4, 8)}}


def small_net(**kwargs) -> CrossDimensionalClassifier:
    torch.manual_seed(0)
    return CrossDimensionalClassifier(**{**SMALL, **kwargs})


def test_registered():
    assert {"cross_dimensional_classifier", "small_cnn_classifier"} <= set(list_networks())
    assert isinstance(get_network("cross_dimensional_classifier", **SMALL), CrossDimensionalClassifier)


@pytest.mark.parametrize("modality", [["MG", "US", "US", "MG"], torch.tensor([0, 1, 1, 0]), ("mg", 1, "US", 0)])
def test_mixed_batch_is_routed_per_image(modality):
    net = small_net().eval()
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        mixed = net(x, modality)
        one_by_one = torch.cat([net(x[i : i + 1], m) for i, m in enumerate(["MG", "US", "US", "MG"])])
        all_mg = net(x, "MG")
    torch.testing.assert_close(mixed, one_by_one)
    assert not torch.allclose(mixed[1:3], all_mg[1:3]), "US images must not go through the MG parts"


def test_modality_norm_keeps_statistics_per_modality():
    net = small_net().train()
    norm = next(m for m in net.encoder.modules() if isinstance(m, ModalityBatchNorm))
    before_us = norm.norms[1].running_mean.clone()
    net(torch.rand(4, 1, 16, 16) + 3.0, "MG")
    assert not torch.equal(norm.norms[0].running_mean, torch.zeros_like(before_us))
    torch.testing.assert_close(norm.norms[1].running_mean, before_us)
    assert net.num_modality_norms == 2  # one per conv block of the small backbone


def test_without_modality_parts_the_encoder_is_plain():
    net = small_net(modality_norm=False, adapter=False)
    assert net.num_modality_norms == 0
    assert not any(isinstance(m, ModalityBatchNorm) for m in net.modules())


def test_heads_with_different_class_counts_are_padded():
    net = small_net(num_classes={"MG": 3, "US": 2}).eval()
    out = net(torch.rand(3, 1, 16, 16), ["US", "MG", "US"])
    assert out.shape == (3, 3)
    assert torch.isinf(out[[0, 2], 2]).all() and torch.isfinite(out[1]).all()
    assert torch.softmax(out, 1)[0, 2] == 0


def test_backward_reaches_only_the_modalities_used():
    net = small_net()
    net(torch.rand(4, 1, 16, 16), ["US"] * 4).sum().backward()
    assert net.heads["US"][1].weight.grad is not None
    assert net.heads["MG"][1].weight.grad is None


def test_default_modality_is_the_first():
    net = small_net().eval()
    x = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(net(x), net(x, "MG"))


@pytest.mark.parametrize(
    "modality, match", [(["MG", "CT"], "unknown modality"), (["MG"], "batch of 2"), (torch.tensor([0, 5]), "range")]
)
def test_bad_modality(modality, match):
    with pytest.raises(ValueError, match=match):
        modality_indices(modality, ["MG", "US"], 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"backbone": "no_such_net"}, "Unknown network"),
        ({"modalities": ["MG", "MG"]}, "distinct"),
        ({"num_classes": 0}, "num_classes"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CrossDimensionalClassifier(**{**SMALL, **kwargs})


def test_resnet50_backbone_by_default():
    net = CrossDimensionalClassifier(num_classes=2).eval()
    assert net.num_features == 128  # the pre-logits of ResNet50Classifier's head
    assert net.num_modality_norms == 53  # every batch norm of ResNet-50
    with torch.no_grad():
        assert net(torch.rand(2, 1, 32, 32), torch.tensor([1, 0])).shape == (2, 2)


def test_small_cnn_interface():
    net = SmallCNNClassifier(num_classes=3, channels=(4, 8))
    feats = net.forward_features(torch.rand(2, 1, 16, 16))
    assert feats.shape == (2, 8, 8, 8)
    net.reset_classifier(5)
    assert net.forward_head(feats).shape == (2, 5)
    assert net.forward_head(feats, pre_logits=True).shape == (2, 8)
