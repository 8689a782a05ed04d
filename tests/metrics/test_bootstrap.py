"""Tests of monai_mammo.metrics.bootstrap: resampling, determinism, grouping, skipped resamples, errors."""

from __future__ import annotations

import numpy as np
import pytest

from monai_mammo.metrics import bootstrap_ci, bootstrap_counts, percentile_interval


def _accuracy(y, p):
    return float(np.mean(y == p))


RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, 40)
P = np.where(RNG.random(40) < 0.8, Y, 1 - Y)


def test_counts_draw_n_cases_per_resample():
    counts = np.concatenate(list(bootstrap_counts(10, 7, seed=1, chunk=3)))
    assert counts.shape == (7, 10)
    np.testing.assert_array_equal(counts.sum(1), 10)


def test_group_counts_keep_groups_together():
    groups = np.array(["a", "a", "b", "c", "c", "c"])
    counts = np.concatenate(list(bootstrap_counts(6, 50, seed=0, groups=groups)))
    assert np.all(counts[:, 0] == counts[:, 1]) and np.all(counts[:, 3] == counts[:, 5])
    # each resample draws 3 groups
    np.testing.assert_array_equal(counts[:, [0, 2, 3]].sum(1), 3)


def test_same_seed_same_interval_other_seed_differs():
    a = bootstrap_ci(_accuracy, Y, P, n_boot=200, seed=3)
    b = bootstrap_ci(_accuracy, Y, P, n_boot=200, seed=3)
    c = bootstrap_ci(_accuracy, Y, P, n_boot=200, seed=4)
    assert a == b
    assert (a.low, a.high) != (c.low, c.high)


def test_interval_contains_point_estimate():
    r = bootstrap_ci(_accuracy, Y, P, n_boot=500)
    assert r.low <= r.value <= r.high
    assert r.value == pytest.approx(_accuracy(Y, P))
    assert r.n_boot == 500 and r.n_skipped == 0


def test_all_correct_interval_is_degenerate():
    r = bootstrap_ci(_accuracy, Y, Y, n_boot=100)
    assert (r.value, r.low, r.high) == (1.0, 1.0, 1.0)


def test_grouped_interval_is_wider_for_clustered_cases():
    """Four identical images per woman: resampling images pretends to four times the data."""
    y = np.repeat(Y[:20], 4)
    p = np.repeat(P[:20], 4)
    women = np.repeat(np.arange(20), 4)
    by_image = bootstrap_ci(_accuracy, y, p, n_boot=500)
    by_woman = bootstrap_ci(_accuracy, y, p, n_boot=500, groups=women)
    assert by_woman.high - by_woman.low > 1.5 * (by_image.high - by_image.low)


def test_undefined_resamples_are_skipped_and_counted():
    def strict(y, p):
        if len(np.unique(y)) < 2:
            raise ValueError("one class only")
        return _accuracy(y, p)

    y = np.array([0] * 9 + [1])  # one positive: about (9/10)^10 = 35% of resamples miss it
    r = bootstrap_ci(strict, y, y, n_boot=300)
    assert 50 < r.n_skipped < 200
    assert r.low == r.high == 1.0


def test_percentile_interval_ignores_nan():
    low, high, skipped = percentile_interval(np.array([np.nan, *np.linspace(0, 1, 101)]), ci=0.9)
    assert (low, high, skipped) == (pytest.approx(0.05), pytest.approx(0.95), 1)


def test_zero_resamples_gives_no_interval():
    r = bootstrap_ci(_accuracy, Y, P, n_boot=0)
    assert np.isnan(r.low) and np.isnan(r.high) and r.value == pytest.approx(_accuracy(Y, P))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_boot": -1}, "n_boot"),
        ({"ci": 1.5}, "ci must lie"),
        ({"groups": [0, 1]}, "one entry per case"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(_accuracy, Y, P, **kwargs)


def test_arrays_of_different_length():
    with pytest.raises(ValueError, match="same number of cases"):
        bootstrap_ci(_accuracy, Y, P[:-1])
