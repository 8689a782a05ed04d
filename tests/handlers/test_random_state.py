"""Tests of monai_mammo.handlers.random_state: every generator a training draws from, saved and restored."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import torch
from monai.transforms import Compose, RandAffined, RandFlipd

from monai_mammo.handlers import RandomStates


class _Sampler:
    def __init__(self) -> None:
        self.generator = torch.Generator().manual_seed(1)


def _draws(pipeline: Compose, sampler: _Sampler) -> tuple:
    return (
        torch.rand(3),
        np.random.rand(),  # noqa: NPY002 (the global generator is what is tested)
        random.random(),
        pipeline.transforms[1].rand_affine.rand_affine_grid.R.rand(),
        torch.rand(1, generator=sampler.generator),
    )


def test_round_trip_restores_every_generator() -> None:
    pipeline = Compose([RandFlipd("image", prob=0.5), RandAffined("image", prob=0.5, rotate_range=0.1)])
    pipeline.set_random_state(3)
    sampler = _Sampler()
    states = RandomStates([pipeline, sampler, None])
    buffer = io.BytesIO()
    torch.save(states.state_dict(), buffer)  # the checkpoint's format
    expected = _draws(pipeline, sampler)
    buffer.seek(0)
    states.load_state_dict(torch.load(buffer, weights_only=True))
    for a, b in zip(expected, _draws(pipeline, sampler), strict=True):
        assert torch.equal(torch.as_tensor(a), torch.as_tensor(b))


def test_other_configuration_is_refused() -> None:
    saved = RandomStates([Compose([RandFlipd("image", prob=0.5)])]).state_dict()
    with pytest.raises(ValueError, match="random states of 2 transforms and 0 generators, this run has 0 and 0"):
        RandomStates([]).load_state_dict(saved)
