"""SRGANSTNClassifier: end-to-end gradients, frozen SR, ablations, intermediates, building from dicts/modules."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from monai_mammo.networks.nets import ResNet50Classifier, SpatialTransformer, SRGANGenerator, SRGANSTNClassifier

SR = {"scale_factor": 2, "num_channels": 8, "num_res_blocks": 1}
STN = {"channels": (4,), "hidden_features": 8, "lanczos_backend": "reference"}


def test_end_to_end_backward():
    torch.manual_seed(0)
    net = SRGANSTNClassifier(sr=SR, stn=STN).train()
    out = net(torch.rand(2, 1, 32, 32))  # LR 32x32 -> SR 64x64 -> STN -> ResNet-50
    assert out.shape == (2, 3)
    out.square().mean().backward()
    for part in (net.sr, net.stn, net.classifier):
        assert all(p.grad is not None for p in part.parameters()), type(part).__name__
    assert net.stn.sampler.t.grad is not None  # the blend weight learns too


def test_frozen_sr_gets_no_grads_and_stays_in_eval():
    net = SRGANSTNClassifier(sr=SR, stn=STN, freeze_sr=True).train()
    assert not net.sr.training and net.stn.training and net.classifier.training
    assert not any(p.requires_grad for p in net.sr.parameters())
    stats = net.sr.res_blocks[0].norm1.running_mean.clone()
    net(torch.rand(2, 1, 32, 32)).sum().backward()
    assert all(p.grad is None for p in net.sr.parameters())
    assert net.stn.fc_theta.bias.grad is not None
    torch.testing.assert_close(net.sr.res_blocks[0].norm1.running_mean, stats)


@pytest.mark.parametrize(
    ("use_sr", "use_stn", "extra_params"),
    [(False, False, 0), (False, True, 89_287), (True, True, 935_820 + 89_287)],
)
def test_ablations_and_parameter_counts(use_sr, use_stn, extra_params):
    # ResNet50 / STN-ResNet50 / SRGAN-STN-ResNet50 with the default parts (SR x4, 64 ch, 8 blocks)
    net = SRGANSTNClassifier(use_sr=use_sr, use_stn=use_stn)
    assert isinstance(net.sr, SRGANGenerator) == use_sr
    assert isinstance(net.stn, SpatialTransformer) == use_stn
    assert sum(p.numel() for p in net.parameters()) == 24_059_587 + extra_params


def test_intermediates():
    net = SRGANSTNClassifier(sr=SR, stn=STN).eval()
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        out = net.forward_intermediates(x)
        assert out["sr"].shape == out["warped"].shape == (1, 1, 64, 64)
        torch.testing.assert_close(out["logits"], net(x))
        # the untrained STN starts at the identity
        torch.testing.assert_close(out["warped"], out["sr"], atol=1e-4, rtol=0)
        assert net.forward_head(net.forward_features(x), pre_logits=True).shape == (1, 128)


def test_without_sr_the_input_goes_through():
    net = SRGANSTNClassifier(use_sr=False, use_stn=False).eval()
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        out = net.forward_intermediates(x)
    assert torch.equal(out["sr"], x) and torch.equal(out["warped"], x)


def test_accepts_modules_and_dicts():
    classifier = ResNet50Classifier(num_classes=2, freeze_until="layer3")
    net = SRGANSTNClassifier(sr=SRGANGenerator(**SR), stn={**STN, "sampler": "bilinear"}, classifier=classifier)
    assert net.classifier is classifier
    assert net.stn.sampler_name == "bilinear"
    net.reset_classifier(4)
    assert net.eval()(torch.rand(1, 1, 32, 32)).shape == (1, 4)


def test_channel_mismatch_and_bad_part():
    with pytest.raises(ValueError, match="stn takes in_channels=3"):
        SRGANSTNClassifier(sr=SR, stn={**STN, "in_channels": 3})
    with pytest.raises(TypeError, match=r"sr must be an nn\.Module"):
        SRGANSTNClassifier(sr="srgan")
    assert isinstance(SRGANSTNClassifier(use_sr=False, sr={"no": "used"}).sr, nn.Identity)
