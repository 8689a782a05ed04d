"""AutocastInferer: bfloat16 forward on the CPU, float32 outputs, the same gradients' direction; the CPU check."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.engines import AutocastInferer, cpu_supports_bfloat16


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
