"""ResNet50Classifier: torchvision-compatible keys, weights loading, grayscale, head, freezing, interface."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from monai_mammo.networks.nets import AvgDownConv, ResNet50Classifier, use_avg_down


def torchvision_resnet50_shapes(in_channels: int = 3) -> dict[str, tuple[int, ...]]:
    """Key -> shape of torchvision's ``resnet50().state_dict()``, written out from its architecture."""
    shapes: dict[str, tuple[int, ...]] = {"conv1.weight": (64, in_channels, 7, 7)}

    def bn(prefix: str, c: int) -> None:
        for name in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{name}"] = (c,)
        shapes[f"{prefix}.num_batches_tracked"] = ()

    bn("bn1", 64)
    inplanes = 64
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3), strict=True), start=1):
        for j in range(blocks):
            p = f"layer{i}.{j}"
            shapes[f"{p}.conv1.weight"] = (planes, inplanes, 1, 1)
            bn(f"{p}.bn1", planes)
            shapes[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
            bn(f"{p}.bn2", planes)
            shapes[f"{p}.conv3.weight"] = (planes * 4, planes, 1, 1)
            bn(f"{p}.bn3", planes * 4)
            if j == 0:
                shapes[f"{p}.downsample.0.weight"] = (planes * 4, inplanes, 1, 1)
                bn(f"{p}.downsample.1", planes * 4)
            inplanes = planes * 4
    shapes["fc.weight"] = (1000, 2048)
    shapes["fc.bias"] = (1000,)
    return shapes


def fake_imagenet_file(path, drop=(), reshape=None, extra=None):
    torch.manual_seed(0)
    sd = {
        k: torch.randn(s) if s else torch.tensor(7) for k, s in torchvision_resnet50_shapes().items() if k not in drop
    }
    for k, s in (reshape or {}).items():
        sd[k] = torch.randn(s)
    sd.update(extra or {})
    torch.save(sd, path)
    return sd


@pytest.fixture(scope="module")
def net() -> ResNet50Classifier:
    return ResNet50Classifier()


def test_backbone_keys_are_torchvision_keys(net):
    expected = {k for k in torchvision_resnet50_shapes() if not k.startswith("fc.")}
    got = net.backbone.state_dict()
    assert set(got) == expected
    assert {k: tuple(v.shape) for k, v in got.items() if k != "conv1.weight"} == {
        k: s for k, s in torchvision_resnet50_shapes().items() if k in expected and k != "conv1.weight"
    }


def test_parameter_counts(net):
    # torchvision resnet50: 25,557,032 = 23,508,032 backbone + 2,049,000 fc; gray conv1 has 64*49 instead of 64*3*49
    assert sum(p.numel() for p in net.backbone.parameters()) == 23_501_760
    assert sum(p.numel() for p in ResNet50Classifier(in_channels=3).backbone.parameters()) == 23_508_032
    head = [m for m in [*net.head_hidden, net.classifier] if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in head] == [(2048, 256), (256, 128), (128, 3)]
    assert sum(p.numel() for p in net.parameters()) == 23_501_760 + 524_544 + 32_896 + 387  # 24,059,587


def test_head_dropout_and_activation():
    net = ResNet50Classifier(dropout=0.3)
    assert [type(m) for m in net.head_hidden] == [nn.Linear, nn.ReLU, nn.Dropout] * 2
    assert {m.p for m in net.head_hidden if isinstance(m, nn.Dropout)} == {0.3}


def test_interface(net):
    net.eval()
    x = torch.rand(2, 1, 64, 96)
    with torch.no_grad():
        features = net.forward_features(x)
        assert features.shape == (2, 2048, 2, 3)  # unpooled, timm's convention
        assert net.forward_head(features, pre_logits=True).shape == (2, 128)
        torch.testing.assert_close(net.forward_head(features), net(x))


def test_reset_classifier():
    net = ResNet50Classifier().eval()
    net.reset_classifier(5)
    assert net(torch.rand(1, 1, 32, 32)).shape == (1, 5)
    net.reset_classifier(0)
    assert net(torch.rand(1, 1, 32, 32)).shape == (1, 128)


@pytest.mark.parametrize(
    ("freeze_until", "frozen"),
    [
        ("none", ()),
        ("stem", ("stem",)),
        ("layer2", ("stem", "layer1", "layer2")),
        ("layer4", ("stem", "layer1", "layer2", "layer3", "layer4")),
        ("all", ("stem", "layer1", "layer2", "layer3", "layer4", "head")),
    ],
)
def test_freeze_until(freeze_until, frozen):
    net = ResNet50Classifier(freeze_until=freeze_until).train()
    parts = {
        "stem": [net.backbone.conv1, net.backbone.bn1],
        "layer1": [net.backbone.layer1],
        "layer2": [net.backbone.layer2],
        "layer3": [net.backbone.layer3],
        "layer4": [net.backbone.layer4],
        "head": [net.head_hidden, net.classifier],
    }
    for name, modules in parts.items():
        params = [p for m in modules for p in m.parameters()]
        assert all(p.requires_grad != (name in frozen) for p in params), name
        # frozen batch norms keep their running statistics: eval mode even under .train()
        assert all(m.training != (name in frozen) for m in modules), name


def test_frozen_layers_get_no_grad_and_keep_stats():
    net = ResNet50Classifier(freeze_until="layer2").train()
    mean_before = net.backbone.layer1[0].bn1.running_mean.clone()
    net(torch.rand(2, 1, 32, 32)).sum().backward()
    assert net.backbone.layer2[0].conv1.weight.grad is None
    assert net.backbone.layer3[0].conv1.weight.grad is not None
    torch.testing.assert_close(net.backbone.layer1[0].bn1.running_mean, mean_before)


def test_bad_freeze_until():
    with pytest.raises(ValueError, match="freeze_until='layer5'"):
        ResNet50Classifier(freeze_until="layer5")


@pytest.mark.parametrize("in_channels", [1, 3, 4])
def test_load_pretrained(tmp_path, in_channels):
    path = tmp_path / "resnet50-0676ba61.pth"
    sd = fake_imagenet_file(path)
    net = ResNet50Classifier(in_channels=in_channels, pretrained_weights=path)
    bb = net.backbone.state_dict()
    torch.testing.assert_close(bb["layer4.2.conv3.weight"], sd["layer4.2.conv3.weight"])
    torch.testing.assert_close(bb["layer1.0.downsample.1.running_var"], sd["layer1.0.downsample.1.running_var"])
    conv1 = bb["conv1.weight"]
    assert conv1.shape == (64, in_channels, 7, 7)
    rgb = sd["conv1.weight"]
    if in_channels == 1:  # a gray image x gives what the RGB weights give for (x, x, x): the channel sum
        torch.testing.assert_close(conv1[:, 0], rgb.sum(1))
    elif in_channels == 3:
        torch.testing.assert_close(conv1, rgb)
    else:  # timm's rule: RGB repeated cyclically (R, G, B, R), scaled by 3 / in_channels
        torch.testing.assert_close(conv1, torch.cat([rgb, rgb[:, :1]], 1) * 0.75)


def test_load_pretrained_without_num_batches_tracked(tmp_path):
    path = tmp_path / "old.pth"
    sd = fake_imagenet_file(path, drop=[k for k in torchvision_resnet50_shapes() if k.endswith("num_batches_tracked")])
    net = ResNet50Classifier(pretrained_weights=path)
    torch.testing.assert_close(net.backbone.bn1.weight.data, sd["bn1.weight"])


def test_load_pretrained_reports_what_is_wrong(tmp_path):
    path = tmp_path / "bad.pth"
    fake_imagenet_file(
        path,
        drop=["layer3.1.conv2.weight"],
        reshape={"layer2.0.bn1.weight": (5,)},
        extra={"layer5.0.conv1.weight": torch.zeros(1)},
    )
    with pytest.raises(ValueError, match="pretrained_weights") as err:
        ResNet50Classifier(pretrained_weights=path)
    message = str(err.value)
    assert "missing keys (1): layer3.1.conv2.weight" in message
    assert "unexpected keys (1): layer5.0.conv1.weight" in message
    assert "wrong shapes (1): layer2.0.bn1.weight (5,) != expected (128,)" in message


def test_load_pretrained_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"pretrained_weights.*resnet50-0676ba61\.pth"):
        ResNet50Classifier(pretrained_weights=tmp_path / "nothing.pth")


def test_bad_input(net):
    with pytest.raises(ValueError, match="3 channels, expected in_channels=1"):
        net(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match=">= 32"):
        net(torch.rand(1, 1, 16, 64))
    with pytest.raises(ValueError, match="dropout"):
        ResNet50Classifier(dropout=1.0)


def test_avg_down_keeps_the_keys_and_loads_imagenet_files(tmp_path):
    """ResNet-D shortcuts: torchvision's file loads into the same names; each shortcut pools, then projects."""
    path = tmp_path / "resnet50-0676ba61.pth"
    sd = fake_imagenet_file(path)
    net = ResNet50Classifier(pretrained_weights=path, avg_down=True)
    bb = net.backbone.state_dict()
    assert set(bb) == {k for k in torchvision_resnet50_shapes() if not k.startswith("fc.")}
    torch.testing.assert_close(bb["layer3.0.downsample.0.weight"], sd["layer3.0.downsample.0.weight"])
    shortcut = net.backbone.layer2[0].downsample[0]
    assert isinstance(shortcut, AvgDownConv) and shortcut.stride == 2
    x = torch.rand(2, 256, 9, 9)
    pooled = nn.functional.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)  # odd side: last row kept
    torch.testing.assert_close(shortcut(x), nn.functional.conv2d(pooled, shortcut.weight))


def test_avg_down_scripts_runs_in_3d_and_refuses_bad_input():
    net = ResNet50Classifier(avg_down=True).eval()
    image = torch.rand(2, 1, 65, 65)
    torch.testing.assert_close(torch.jit.script(net)(image), net(image))
    net = ResNet50Classifier(spatial_dims=3, num_classes=2, avg_down=True).eval()
    assert net(torch.rand(1, 1, 32, 32, 32)).shape == (1, 2)
    with pytest.raises(ValueError, match="AvgDownConv: expected a 1x1"):
        AvgDownConv(nn.Conv2d(4, 8, 3, bias=False))


def test_avg_down_keeps_a_shortcut_bias():
    """MONAI's ResNet has biased shortcuts by default (bias_downsample=True): the bias is kept, and scripts."""
    conv = nn.Conv2d(4, 8, 1, stride=2)
    shortcut = AvgDownConv(conv)
    assert set(dict(shortcut.named_parameters())) == {"weight", "bias"}
    x = torch.rand(1, 4, 6, 6)
    torch.testing.assert_close(
        shortcut(x), nn.functional.conv2d(nn.functional.avg_pool2d(x, 2), conv.weight, conv.bias)
    )
    torch.testing.assert_close(torch.jit.script(shortcut)(x), shortcut(x))
    with pytest.raises(ValueError, match="with one group"):
        AvgDownConv(nn.Conv2d(4, 8, 1, groups=2))


def test_use_avg_down_on_a_monai_resnet18():
    """Basic blocks: layer1 has no projection shortcut and is left alone; layers 2-4 get AvgDownConv, biases kept."""
    from monai.networks.nets import ResNet

    net = ResNet("basic", [2, 2, 2, 2], [64, 128, 256, 512], spatial_dims=2, n_input_channels=1, num_classes=2)
    keys = set(net.state_dict())
    assert use_avg_down(net) is net and set(net.state_dict()) == keys
    assert net.layer1[0].downsample is None
    assert all(isinstance(getattr(net, f"layer{i}")[0].downsample[0], AvgDownConv) for i in (2, 3, 4))
    assert net(torch.rand(1, 1, 28, 28)).shape == (1, 2)
