"""The network registry, and the contract test that every registered network must pass."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn as nn

from monai_mammo.networks import get_network, get_network_entry, list_networks, register_network
from monai_mammo.networks.registry import _REGISTRY

# Networks that torch.jit.script cannot compile, with the reason; the contract traces them instead.
NOT_SCRIPTABLE = {
    "spatial_transformer": "the blended sampler calls lanczos_grid_sample, whose numba/triton kernels are not "
    "TorchScript; torch.jit.trace records them",
    "cross_dimensional_classifier": "routing images by modality is Python control flow over a list or tensor of "
    "modality codes; torch.jit.trace records it for one modality pattern",
}

EXPECTED = {"srgan_generator", "srgan_discriminator", "spatial_transformer", "resnet50_classifier"}
EXPECTED |= {"srgan_stn_classifier"}


@pytest.fixture
def clean_registry():
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


def test_the_five_networks_are_registered():
    assert EXPECTED <= set(list_networks())
    assert list_networks() == sorted(list_networks())


def test_register_refuses_a_duplicate_name(clean_registry):
    @register_network("tmp_net")
    class TmpNet(nn.Linear):
        pass

    with pytest.raises(ValueError, match=r"tmp_net.*already registered"):

        @register_network("tmp_net")
        class OtherNet(nn.Linear):
            pass

    with pytest.raises(ValueError, match="already registered"):
        register_network("srgan_generator")(nn.Identity)


def test_registering_the_same_object_again_is_allowed(clean_registry):
    def factory() -> nn.Module:
        return nn.Identity()

    register_network("tmp_factory")(factory)
    register_network("tmp_factory")(factory)  # e.g. importlib.reload of the defining module
    assert isinstance(get_network("tmp_factory"), nn.Identity)


def test_register_refuses_an_empty_name():
    with pytest.raises(ValueError, match="non-empty"):
        register_network("")


def test_get_network_passes_kwargs():
    net = get_network("srgan_generator", scale_factor=2, num_channels=8, num_res_blocks=1)
    assert net.scale_factor == 2


@pytest.mark.parametrize(("name", "suggestion"), [("srgan_generatr", "srgan_generator"), ("resnet50", "resnet50")])
def test_unknown_name_suggests_close_names(name, suggestion):
    with pytest.raises(ValueError, match=rf"Unknown network name '{name}'\. Did you mean.*{suggestion}"):
        get_network(name)


@pytest.mark.parametrize("name", list_networks())
def test_contract(name):
    """Every registered network: output shape, backward pass, eval mode, TorchScript (script, else trace)."""
    entry = get_network_entry(name)
    assert entry.example_input_shape is not None and entry.example_output_shape is not None, (
        f"register {name!r} with example_input_shape and example_output_shape"
    )
    torch.manual_seed(0)
    net = entry.builder(**entry.example_kwargs)
    x = torch.rand(*entry.example_input_shape)

    net.train()
    out = net(x)
    assert tuple(out.shape) == entry.example_output_shape
    out.float().square().mean().backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads), "every trainable param gets a grad"

    net.eval()
    with torch.no_grad():
        y1, y2 = net(x), net(x)
    assert torch.equal(y1, y2), "eval mode is deterministic"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings of shape checks; trace deprecation notices
        if name in NOT_SCRIPTABLE:
            compiled = torch.jit.trace(net, x)
        else:
            compiled = torch.jit.script(net)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), y1, rtol=1e-4, atol=1e-5)
