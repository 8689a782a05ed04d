"""Weight interpolation between two models."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.networks import interpolate_weights


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_interpolation_endpoints_are_exact(net, alpha):
    a, b = net(), net()
    for p in b.parameters():
        p.data.add_(torch.randn_like(p) * 0.3)
    out = interpolate_weights(a.state_dict(), b.state_dict(), alpha)
    expected = a.state_dict() if alpha == 1.0 else b.state_dict()
    for key, value in out.items():
        if value.is_floating_point():
            assert torch.equal(value, expected[key]), key


def test_interpolation_leaves_integer_buffers_and_mixes_floats(net):
    a, b = net(), net()
    a(torch.rand(4, 1, 16, 16), "US")  # a train step: a's num_batches_tracked becomes 1
    for p in b.parameters():
        p.data.add_(1.0)
    names = [n for n, _ in a.named_parameters()]
    out = interpolate_weights(a.state_dict(), b.state_dict(), 0.25, names=names)
    sa, sb = a.state_dict(), b.state_dict()
    tracked = [k for k in out if k.endswith("num_batches_tracked")]
    assert tracked and all(torch.equal(out[k], sa[k]) and out[k].dtype == torch.long for k in tracked)
    assert any(sa[k] != sb[k] for k in tracked)
    running = [k for k in out if k.endswith("running_mean")]
    assert all(torch.equal(out[k], sa[k]) for k in running)  # buffers are w's, not interpolated
    key = "heads.US.1.weight"
    torch.testing.assert_close(out[key], 0.25 * sa[key] + 0.75 * sb[key])


def test_interpolation_checks_its_arguments(net):
    sd = net().state_dict()
    with pytest.raises(ValueError, match="alpha"):
        interpolate_weights(sd, sd, 1.5)
    with pytest.raises(ValueError, match="different keys"):
        interpolate_weights(sd, {k: v for k, v in sd.items() if "heads" not in k}, 0.5)
