"""AutocastInferer: bfloat16 forward on the CPU, float32 outputs; the CPU check; SelfEnsembleInferer (EDSR+)."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.engines import AutocastInferer, SelfEnsembleInferer, cpu_supports_bfloat16


def test_autocast_runs_the_forward_in_bfloat16_and_returns_float32():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    x = torch.rand(3, 1, 8, 8)
    reference = net(x)
    seen = []
    net[0].register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    out = AutocastInferer()(x, net)
    assert seen == [torch.bfloat16] and out.dtype == torch.float32
    torch.testing.assert_close(out, reference, atol=0.05, rtol=0.05)
    out.sum().backward()  # autograd replays the autocast forward
    assert net[0].weight.grad is not None and net[0].weight.grad.dtype == torch.float32


def test_disabled_is_a_plain_forward_and_dicts_come_back_float32():
    net = torch.nn.Linear(4, 2)
    x = torch.rand(2, 4)
    torch.testing.assert_close(AutocastInferer(enabled=False)(x, net), net(x), rtol=0, atol=0)

    class TwoOutputs(torch.nn.Module):
        def forward(self, x):
            return {"logits": net(x), "index": torch.arange(2)}

    out = AutocastInferer()(x, TwoOutputs())
    assert out["logits"].dtype == torch.float32 and out["index"].dtype == torch.int64


def test_enabled_must_be_a_bool():
    with pytest.raises(TypeError, match="enabled must be true or false, got 'yes'"):
        AutocastInferer(enabled="yes")  # type: ignore[arg-type]


def test_cpu_supports_bfloat16_reads_the_cpu_flags():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        flags = set(f.read().split())
    assert cpu_supports_bfloat16() == bool(flags & {"avx512_bf16", "amx_bf16"})


def test_self_ensemble_is_the_mean_over_the_eight_rotations_and_flips():
    torch.manual_seed(0)
    net = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    x = torch.rand(2, 1, 6, 5)  # not square: each rotation's output is mapped back to the input's orientation
    expected = torch.zeros_like(x)
    for flip in (False, True):
        for k in range(4):
            y = net(torch.rot90(x.flip(-1) if flip else x, k, (2, 3)))
            y = torch.rot90(y, -k, (2, 3))
            expected += y.flip(-1) if flip else y
    out = SelfEnsembleInferer()(x, net)
    assert out.shape == x.shape
    torch.testing.assert_close(out, expected / 8)
    identity = torch.nn.Identity()
    torch.testing.assert_close(SelfEnsembleInferer()(x, identity), x)  # every view maps back onto the input


def test_self_ensemble_off_wraps_and_refuses():
    net = torch.nn.Conv2d(1, 1, 3, padding=1)
    x = torch.rand(1, 1, 4, 4)
    torch.testing.assert_close(SelfEnsembleInferer(enabled=False)(x, net), net(x), rtol=0, atol=0)
    wrapped = SelfEnsembleInferer(inferer=AutocastInferer(enabled=True))(x, net)
    assert wrapped.dtype == torch.float32
    with pytest.raises(TypeError, match="enabled must be true or false"):
        SelfEnsembleInferer(enabled="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2 or more spatial axes"):
        SelfEnsembleInferer()(torch.rand(1, 4), torch.nn.Identity())
