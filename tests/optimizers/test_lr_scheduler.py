"""The inverse-time learning-rate decay."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.optimizers import InverseTimeDecay, inverse_time_scheduler


def test_inverse_time_decay():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = inverse_time_scheduler(opt, beta=0.5)
    lrs = []
    for _ in range(3):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 2.0])
    assert InverseTimeDecay(0.0)(10) == 1.0
    assert "lr_lambdas" in sched.state_dict()
