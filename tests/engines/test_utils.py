"""Tests of monai_mammo.engines.utils: batch preparation."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.engines import SRPrepareBatch

LR, HR, MASK = torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 8, 8), torch.ones(1, 1, 8, 8)


@pytest.mark.parametrize(
    ("batch", "has_mask"),
    [
        ({"lr": LR, "hr": HR, "mask": MASK}, True),
        ({"lr": LR, "image": HR}, False),
        ((LR, HR), False),
        ((LR, HR, MASK), True),
    ],
)
def test_prepare_batch_forms(batch, has_mask):
    lr, hr, mask = SRPrepareBatch()(batch, "cpu")
    assert lr.shape == (1, 1, 4, 4) and hr.shape == (1, 1, 8, 8)
    assert (mask is not None) == has_mask


def test_prepare_batch_custom_keys_and_errors():
    prep = SRPrepareBatch(lr_key="low", hr_key="high", mask_key=None)
    _, hr, mask = prep({"low": LR, "high": HR, "mask": MASK})
    assert mask is None and hr is HR
    with pytest.raises(KeyError, match="lr_key='low'"):
        prep({"lr": LR, "high": HR})
    with pytest.raises(KeyError, match="HR image"):
        prep({"low": LR, "hr": HR})
    with pytest.raises(TypeError, match="dict or a"):
        prep(LR)
