"""Class weights and samplers against class imbalance."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import WeightedRandomSampler

from monai_mammo.data import (
    Imbalance,
    ModalityBalancedSampler,
    class_counts,
    class_weights,
    imbalance_loss_weights,
    imbalance_sampler,
)


def _items(labels: list[int]) -> list[dict]:
    return [{"image": f"{i}.png", "label": lab} for i, lab in enumerate(labels)]


def test_class_counts_and_balanced_weights() -> None:
    items = _items([0, 0, 0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(class_counts(items, 3), [4, 2, 2])
    # n / (C * n_c): 8 / (3 * 4), 8 / (3 * 2), 8 / (3 * 2)
    torch.testing.assert_close(class_weights(items, 3), torch.tensor([2 / 3, 4 / 3, 4 / 3]))


def test_balanced_classes_weigh_one_and_missing_class_zero() -> None:
    torch.testing.assert_close(class_weights(_items([0, 1, 2]), 3), torch.ones(3))
    assert class_weights(_items([0, 0, 1]), 3)[2] == 0


def test_label_out_of_range_fails() -> None:
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        class_counts(_items([0, 2]), 2)


@pytest.mark.parametrize(("mode", "is_none"), [("weights", False), ("sampler", True), ("none", True)])
def test_loss_weights_only_for_weights(mode: str, is_none: bool) -> None:
    assert (imbalance_loss_weights(_items([0, 1, 1]), 2, mode) is None) == is_none


def test_unknown_imbalance_mode_fails() -> None:
    with pytest.raises(ValueError, match="weights"):
        imbalance_loss_weights(_items([0, 1]), 2, "oversample")


def test_balanced_sampler_draws_classes_equally() -> None:
    items = _items([0] * 90 + [1] * 10)
    sampler = imbalance_sampler(items, 2, Imbalance.SAMPLER)
    assert isinstance(sampler, WeightedRandomSampler)
    torch.manual_seed(0)
    drawn = [items[i]["label"] for _ in range(20) for i in sampler]
    assert 0.4 < np.mean(drawn) < 0.6


@pytest.mark.parametrize("mode", ["weights", "none"])
def test_no_sampler_without_balancing(mode: str) -> None:
    assert imbalance_sampler(_items([0, 1]), 2, mode) is None


def test_balanced_sampler():
    modalities = ["MG"] * 10 + ["US"] * 3
    sampler = ModalityBalancedSampler(modalities, seed=1)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 20
    assert Counter(modalities[i] for i in drawn) == {"MG": 10, "US": 10}
    assert all(modalities[drawn[k]] != modalities[drawn[k + 1]] for k in range(0, 20, 2))  # interleaved
    assert drawn == list(ModalityBalancedSampler(modalities, seed=1))
    sampler.set_epoch(1)
    assert list(sampler) != drawn
    ranks = [list(ModalityBalancedSampler(modalities, seed=1, num_replicas=2, rank=r)) for r in (0, 1)]
    assert sorted(ranks[0] + ranks[1]) == sorted(drawn) and len(ranks[0]) == len(ranks[1]) == 10
