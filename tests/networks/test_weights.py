"""Loading local torchvision-format state dicts: unwrapping, channel adaptation, errors that name the keys."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from monai_mammo.networks.weights import adapt_input_channels, load_matching_state_dict, load_state_dict_file


def small_net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1))


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "model", "ddp"])
def test_load_state_dict_file_unwraps(tmp_path, wrap):
    sd = small_net().state_dict()
    obj = {
        "plain": sd,
        "state_dict": {"state_dict": sd, "epoch": 3},
        "model": {"model": sd},
        "ddp": {f"module.{k}": v for k, v in sd.items()},
    }[wrap]
    torch.save(obj, tmp_path / "w.pth")
    loaded = load_state_dict_file(tmp_path / "w.pth")
    assert set(loaded) == set(sd)


def test_load_state_dict_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"my_arg: no weights file.*get it here"):
        load_state_dict_file(tmp_path / "none.pth", "my_arg", "get it here")
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="does not hold a state dict"):
        load_state_dict_file(tmp_path / "list.pth")


def test_adapt_input_channels():
    w = torch.randn(8, 3, 3, 3)
    torch.testing.assert_close(adapt_input_channels(w, 1), w.sum(1, keepdim=True))
    assert adapt_input_channels(w, 3) is w
    torch.testing.assert_close(adapt_input_channels(w, 6), torch.cat([w, w], 1) * 0.5)


def test_load_matching_state_dict_loads_and_adapts():
    src, dst = small_net(), nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1))
    load_matching_state_dict(dst, src.state_dict(), adapt_keys=["0.weight"])
    torch.testing.assert_close(dst[0].weight.data, src[0].weight.data.sum(1, keepdim=True))
    torch.testing.assert_close(dst[2].weight.data, src[2].weight.data)


def test_load_matching_state_dict_prefix_ignore_and_unexpected():
    src = {f"features.{k}": v for k, v in small_net().state_dict().items()}
    src["classifier.weight"] = torch.zeros(3)
    src["features.9.weight"] = torch.zeros(3)
    net = small_net()
    load_matching_state_dict(net, src, prefix="features.", ignore_prefixes=["9."])
    with pytest.raises(ValueError, match=r"unexpected keys \(1\): features\.9\.weight"):
        load_matching_state_dict(net, src, prefix="features.")
    load_matching_state_dict(net, src, prefix="features.", allow_unexpected=True)


def test_load_matching_state_dict_lists_all_problems():
    sd = small_net().state_dict()
    del sd["0.bias"]
    sd["2.weight"] = torch.zeros(2, 4, 3, 3)
    with pytest.raises(ValueError, match="my file does not match Sequential") as err:
        load_matching_state_dict(small_net(), sd, "my file")
    assert "missing keys (1): 0.bias" in str(err.value)
    assert "wrong shapes (1): 2.weight (2, 4, 3, 3) != expected (2, 4, 1, 1)" in str(err.value)
