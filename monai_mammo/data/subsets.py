"""Subsets of datalist items: one modality's items, and a limited-label fraction chosen by patient."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from monai_mammo.utils import MammoKeys

__all__ = ["limited_label_subset", "modality_items"]


def limited_label_subset(
    items: Sequence[Mapping[str, Any]],
    fraction: float,
    seed: int = 0,
    modality: str | None = None,
    label_key: str = MammoKeys.LABEL,
    group_key: str = MammoKeys.PATIENT_ID,
    modality_key: str = MammoKeys.MODALITY,
) -> list[dict[str, Any]]:
    """Keep ``fraction`` of the labelled items (of ``modality``, others all kept), chosen by patient, stratified.

    Items are grouped by ``group_key`` (each item its own group where it has none), a group's class is its
    largest label (a woman with a malignant image counts as malignant), and in each class
    ``max(1, round(fraction * groups))`` groups are drawn with ``seed``. The draw depends only on the items and
    ``seed``; the order of the items is kept. A smaller fraction's subset is inside a larger one's (same seed).

    Raises:
        ValueError: ``fraction`` not in (0, 1]; an item without ``label_key``.
    """
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f"limited_label_subset: fraction must lie in (0, 1], got {fraction}.")
    chosen = [i for i, it in enumerate(items) if modality is None or str(it.get(modality_key, "")).upper() == modality]
    groups: dict[str, list[int]] = defaultdict(list)
    for i in chosen:
        if label_key not in items[i]:
            raise ValueError(f"limited_label_subset: item {i} ({items[i].get('image')}) has no {label_key!r}.")
        gid = items[i].get(group_key)
        groups[str(gid) if gid not in (None, "") else f"__item_{i}"].append(i)
    strata: dict[int, list[str]] = defaultdict(list)
    for gid in sorted(groups):
        strata[max(int(items[i][label_key]) for i in groups[gid])].append(gid)
    keep: set[int] = set(range(len(items))) - set(chosen)
    for label in sorted(strata):
        gids = strata[label]
        rng = np.random.default_rng([int(seed), label])
        order = rng.permutation(len(gids))
        n = len(gids) if fraction >= 1.0 else max(1, round(fraction * len(gids)))
        for j in order[:n]:
            keep |= set(groups[gids[j]])
    return [dict(items[i]) for i in sorted(keep)]


def modality_items(
    items: Sequence[Mapping[str, Any]], modality: str, modality_key: str = MammoKeys.MODALITY
) -> list[dict[str, Any]]:
    """The items of one modality (names compared case-insensitively), copied.

    Raises:
        ValueError: an item without ``modality_key``; no item of ``modality`` (the message lists those found).
    """
    found: set[str] = set()
    out = []
    for i, item in enumerate(items):
        if modality_key not in item:
            raise ValueError(f"item {i} ({item.get('image')}) has no {modality_key!r}; cross transfer needs it.")
        found.add(str(item[modality_key]).upper())
        if str(item[modality_key]).upper() == str(modality).upper():
            out.append(dict(item))
    if not out:
        raise ValueError(f"no items of modality {modality!r}; the data has {sorted(found)}.")
    return out
