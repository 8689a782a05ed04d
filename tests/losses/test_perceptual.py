"""VGG19ContentLoss: refuses without weights, named fallbacks, torchvision-format loading, preprocessing."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from monai_mammo.losses import VGG19_LAYERS, PixelLoss, VGG19ContentLoss, vgg19_features

# torchvision vgg19().features: indices of the 16 convs and their widths
CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
CONV_WIDTHS = (64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512)


def fake_vgg19_file(path, up_to: int = 4, drop=(), reshape=None):
    """A torchvision-format VGG19 file with the first ``up_to`` convs (plus a classifier entry)."""
    sd, prev = {}, 3
    for idx, width in list(zip(CONV_INDICES, CONV_WIDTHS, strict=True))[:up_to]:
        sd[f"features.{idx}.weight"] = torch.randn(width, prev, 3, 3) * 0.05
        sd[f"features.{idx}.bias"] = torch.randn(width) * 0.05
        prev = width
    sd["classifier.6.bias"] = torch.zeros(1000)
    for k in drop:
        del sd[k]
    sd.update(reshape or {})
    torch.save(sd, path)
    return sd


def test_layer_indices_match_torchvision():
    assert [VGG19_LAYERS[f"conv{b}_{c}"] for b, c in [(1, 1), (2, 2), (3, 4), (5, 4)]] == [0, 7, 16, 34]
    assert VGG19_LAYERS["relu5_4"] == 35 and VGG19_LAYERS["relu2_2"] == 8
    convs = [i for i, m in enumerate(vgg19_features("pool5")) if isinstance(m, nn.Conv2d)]
    assert tuple(convs) == CONV_INDICES
    assert sum(p.numel() for p in vgg19_features("pool5").parameters()) == 20_024_384  # torchvision's features


def test_refuses_without_weights():
    with pytest.raises(ValueError, match=r"vgg19-dcbb9e9d\.pth.*weights_path=.*fallback='random'"):
        VGG19ContentLoss()


def test_missing_file_is_an_error_even_with_a_fallback(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"weights_path.*vgg19-dcbb9e9d"):
        VGG19ContentLoss(weights_path=tmp_path / "vgg19.pth", fallback="random")


def test_random_fallback_warns_and_works():
    with pytest.warns(UserWarning, match="weak stand-in"):
        loss = VGG19ContentLoss("relu2_2", fallback="random")
    x = torch.rand(1, 1, 16, 16, requires_grad=True)
    value = loss(x, torch.rand(1, 1, 16, 16))
    value.backward()
    assert value > 0 and x.grad is not None
    assert loss(x, x.detach()).item() == 0.0
    assert not any(p.requires_grad for p in loss.parameters())


def test_pixel_fallback():
    loss = VGG19ContentLoss(fallback="pixel")
    x, y = torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(loss(x, y), PixelLoss()(x, y))


def test_loads_torchvision_weights(tmp_path):
    sd = fake_vgg19_file(tmp_path / "vgg19-dcbb9e9d.pth")
    loss = VGG19ContentLoss("relu2_2", weights_path=tmp_path / "vgg19-dcbb9e9d.pth", input_range=(-1.0, 1.0))
    torch.testing.assert_close(loss.features[7].weight.data, sd["features.7.weight"])
    # preprocessing: [-1, 1] -> [0, 1], gray -> RGB, ImageNet normalisation, then features up to relu2_2
    x, y = torch.rand(1, 1, 16, 16) * 2 - 1, torch.rand(1, 1, 16, 16) * 2 - 1
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def feats(img):
        return loss.features(((img + 1) / 2).repeat(1, 3, 1, 1).sub(mean).div(std))

    torch.testing.assert_close(loss(x, y), nn.functional.mse_loss(feats(x), feats(y)))


def test_weights_with_wrong_keys_or_shapes(tmp_path):
    fake_vgg19_file(
        tmp_path / "a.pth", drop=["features.5.bias"], reshape={"features.0.weight": torch.zeros(64, 1, 3, 3)}
    )
    with pytest.raises(ValueError, match="weights_path") as err:
        VGG19ContentLoss("relu2_2", weights_path=tmp_path / "a.pth")
    assert "missing keys (1): features.5.bias" in str(err.value)
    assert "wrong shapes (1): features.0.weight (64, 1, 3, 3) != expected (64, 3, 3, 3)" in str(err.value)
    with pytest.raises(ValueError, match="missing keys"):  # relu5_4 needs convs the file does not have
        VGG19ContentLoss("relu5_4", weights_path=tmp_path / "a.pth")


def test_bad_arguments_and_input():
    with pytest.raises(ValueError, match="relu9_9"):
        VGG19ContentLoss("relu9_9", fallback="pixel")
    with pytest.raises(ValueError, match="zeros"):
        VGG19ContentLoss(fallback="zeros")
    with pytest.raises(ValueError, match="input_range"):
        VGG19ContentLoss(fallback="pixel", input_range=(1.0, 0.0))
    loss = VGG19ContentLoss(fallback="pixel")
    with pytest.raises(ValueError, match="1 or 3"):
        loss(torch.rand(1, 2, 8, 8), torch.rand(1, 2, 8, 8))
    with pytest.raises(ValueError, match="target shape"):
        loss(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
