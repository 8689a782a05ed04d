"""Percentile bootstrap confidence intervals, resampling cases or whole groups (patients).

Resampling images treats the images of one woman as independent, which they are not (two views, two
breasts, follow-ups); resampling women (``groups``) gives the more honest, wider interval. A resample in which
a metric is undefined (e.g. AUC when a class is absent) is skipped and counted, not set to 0.

Reference: B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall, 1993
(percentile interval, chapter 13; cluster bootstrap of independent groups, chapter 8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from monai.utils import convert_to_numpy

__all__ = ["BootstrapCI", "bootstrap_ci", "bootstrap_counts", "percentile_interval"]


@dataclass(frozen=True)
class BootstrapCI:
    """A point estimate with its percentile bootstrap interval.

    Attributes:
        value: the metric on the original data (``NaN`` when undefined).
        low: lower bound (``NaN`` when no resample gave a defined value or ``n_boot == 0``).
        high: upper bound.
        n_boot: the number of resamples drawn.
        n_skipped: resamples where the metric was undefined and left out.
    """

    value: float
    low: float
    high: float
    n_boot: int
    n_skipped: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form: ``{"value", "ci": [low, high], "n_boot", "n_skipped"}``."""
        return {"value": self.value, "ci": [self.low, self.high], "n_boot": self.n_boot, "n_skipped": self.n_skipped}


def _check_bootstrap_args(n_boot: int, ci: float) -> None:
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 0:
        raise ValueError(f"n_boot must be an integer >= 0, got {n_boot!r}.")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must lie in (0, 1), e.g. 0.95, got {ci!r}.")


def _group_index(groups: Any, n: int) -> np.ndarray | None:
    if groups is None:
        return None
    g = np.asarray(convert_to_numpy(groups))
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"groups must have one entry per case ({n}), got shape {g.shape}.")
    return np.unique(g, return_inverse=True)[1].reshape(-1)


def bootstrap_counts(
    n: int, n_boot: int, seed: int = 0, groups: Any = None, chunk: int | None = None
) -> Iterator[np.ndarray]:
    """How often each case is drawn in each resample, in chunks of shape ``(b, n)``.

    Without ``groups`` each resample draws ``n`` cases with replacement. With ``groups`` (one id per case,
    e.g. the patient) each resample draws as many groups as there are, with replacement, and takes every case
    of a drawn group. Deterministic for a given ``seed``, ``n``, ``groups`` and ``chunk``.

    Args:
        n: number of cases.
        n_boot: number of resamples.
        seed: seed of ``numpy.random.default_rng``.
        groups: optional group id per case.
        chunk: resamples per yielded block; default keeps a block near two million values.
    """
    group_of_case = _group_index(groups, n)
    units = n if group_of_case is None else int(group_of_case.max()) + 1
    step = chunk or max(1, 2_000_000 // max(n, units, 1))
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, step):
        b = min(step, n_boot - start)
        draws = rng.integers(0, units, size=(b, units))
        index = (np.arange(b)[:, None] * units + draws).ravel()
        counts = np.bincount(index, minlength=b * units).reshape(b, units).astype(np.float64)
        yield counts if group_of_case is None else counts[:, group_of_case]


def percentile_interval(values: np.ndarray, ci: float = 0.95) -> tuple[float, float, int]:
    """Percentile interval of the finite ``values``; returns ``(low, high, number of non-finite skipped)``."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = values[np.isfinite(values)]
    skipped = int(values.size - finite.size)
    if finite.size == 0:
        return float("nan"), float("nan"), skipped
    alpha = (1.0 - ci) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high), skipped


def bootstrap_ci(
    metric_fn: Callable[..., float],
    *arrays: Any,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    groups: Any = None,
) -> BootstrapCI:
    """Percentile bootstrap interval of any metric of paired per-case arrays.

    ``metric_fn(*resampled_arrays)`` is called once on the data and once per resample; a resample where it
    returns a non-finite value or raises ``ValueError`` (an undefined metric) is skipped and counted.

    Args:
        metric_fn: metric of the arrays, returning a float.
        arrays: numpy arrays or tensors with the cases along the first axis, all of the same length.
        n_boot: number of resamples (0: no interval).
        ci: coverage of the interval, e.g. 0.95.
        seed: seed of the resampling.
        groups: optional group id per case (e.g. patient id): resample groups, not cases.

    Returns:
        :class:`BootstrapCI`.

    Example:
        >>> import numpy as np
        >>> r = bootstrap_ci(lambda a, b: float(np.mean(a == b)), np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))
        >>> r.value, r.low <= r.value <= r.high
        (0.75, True)
    """
    _check_bootstrap_args(n_boot, ci)
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array of cases.")
    data = [np.asarray(convert_to_numpy(a)) for a in arrays]
    n = data[0].shape[0]
    if n == 0 or any(a.shape[0] != n for a in data):
        raise ValueError(f"arrays must be non-empty with the same number of cases, got {[a.shape[0] for a in data]}.")
    value = float(metric_fn(*data))  # errors on the data itself are not hidden
    stats = []
    cases = np.arange(n)
    for counts in bootstrap_counts(n, n_boot, seed, groups):
        for row in counts:
            index = np.repeat(cases, row.astype(np.int64))
            stats.append(_safe_call(metric_fn, [a[index] for a in data]))
    low, high, skipped = percentile_interval(np.asarray(stats), ci)
    return BootstrapCI(value, low, high, n_boot, skipped)


def _safe_call(metric_fn: Callable[..., float], data: list[np.ndarray]) -> float:
    try:
        return float(metric_fn(*data))
    except ValueError:
        return float("nan")
