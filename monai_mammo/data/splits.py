"""Leak-free splits: stratified by label, grouped by patient, deterministic from a seed.

A split never puts one patient (a woman in MIAS, a patient in CBIS-DDSM, a near-duplicate group in BUSI) in two
parts. The result is a MONAI datalist: ``{"training": [...], "test": [...]}`` where each training item carries
``"fold": k``, meaning it is in the validation part of fold ``k`` (the convention of MONAI's Auto3DSeg datalists);
for a single train/validation split use fold 0 as validation. Folds come from scikit-learn's
:class:`~sklearn.model_selection.StratifiedGroupKFold` with ``shuffle=True, random_state=seed``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from monai_mammo.utils import MammoKeys

from .datalist import read_datalist

__all__ = ["check_no_patient_leakage", "grouped_kfold", "split_datalist"]

#: Largest number of parts the test fraction is approximated with (0.15 -> 3 parts of 20).
_MAX_TEST_PARTS = 20


def _groups(items: Sequence[Mapping[str, Any]], group_key: str) -> list[str]:
    return [str(item.get(group_key) or item[MammoKeys.IMAGE]) for item in items]


def grouped_kfold(
    items: Sequence[Mapping[str, Any]],
    folds: int,
    seed: int = 0,
    group_key: str = MammoKeys.PATIENT_ID,
    label_key: str = MammoKeys.LABEL,
) -> list[int]:
    """Fold (0..folds-1) of every item: stratified by ``label_key``, grouped by ``group_key``.

    Items without ``group_key`` are their own group (keyed by ``image``).

    Raises:
        ValueError: when ``folds < 2`` or there are fewer groups than folds.
    """
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}.")
    groups = _groups(items, group_key)
    if len(set(groups)) < folds:
        raise ValueError(f"{len(set(groups))} patients (groups) cannot fill {folds} folds; use fewer folds.")
    labels = np.asarray([int(item[label_key]) for item in items])
    fold = np.zeros(len(items), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, held_out) in enumerate(splitter.split(np.zeros(len(items)), labels, groups)):
        fold[held_out] = k
    return fold.tolist()


def split_datalist(
    items: Sequence[Mapping[str, Any]],
    folds: int = 5,
    test_fraction: float = 0.2,
    seed: int = 0,
    group_key: str = MammoKeys.PATIENT_ID,
    label_key: str = MammoKeys.LABEL,
) -> dict[str, list[dict[str, Any]]]:
    """Split items into a test part and k folds of the rest, never splitting a patient.

    The test part is ``test_fraction`` of the patients, approximated as ``p`` of ``q`` grouped stratified parts
    (``Fraction(test_fraction).limit_denominator(20)``: 0.2 -> 1 of 5, 0.15 -> 3 of 20, 0.3 -> 3 of 10).

    Args:
        items: datalist items with ``label_key`` and (ideally) ``group_key``.
        folds: number of cross-validation folds of the training part (>= 2).
        test_fraction: share of patients held out as ``"test"``; 0 gives no test part.
        seed: the same seed and items give the same split.
        group_key: the item key naming the patient.
        label_key: the item key of the integer class to stratify on.

    Returns:
        ``{"training": [... with "fold"], "test": [...]}`` (``"test"`` only when ``test_fraction > 0``); the
        items are copies.
    """
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}.")
    copies = [dict(item) for item in items]
    result: dict[str, list[dict[str, Any]]] = {}
    training = copies
    if test_fraction > 0:
        n_groups = len(set(_groups(copies, group_key)))
        fraction = Fraction(test_fraction).limit_denominator(min(_MAX_TEST_PARTS, max(n_groups, 2)))
        if fraction.numerator == 0:
            raise ValueError(f"test_fraction {test_fraction} is too small for {n_groups} patients.")
        parts = grouped_kfold(copies, fraction.denominator, seed, group_key, label_key)
        result["test"] = [it for it, p in zip(copies, parts, strict=True) if p < fraction.numerator]
        training = [it for it, p in zip(copies, parts, strict=True) if p >= fraction.numerator]
    for item, k in zip(training, grouped_kfold(training, folds, seed, group_key, label_key), strict=True):
        item[MammoKeys.FOLD.value] = k
    return {"training": training, **result}


def check_no_patient_leakage(
    datalist: Mapping[str, Any] | str | os.PathLike, group_key: str = MammoKeys.PATIENT_ID
) -> int:
    """Check that no patient appears in two parts: two folds of ``"training"``, or training and another list.

    Args:
        datalist: a datalist dict, or the path of its JSON file.
        group_key: the item key naming the patient (items without it count as their own patient).

    Returns:
        The number of patients checked.

    Raises:
        ValueError: naming the patients found in more than one part, and the parts.
    """
    if not isinstance(datalist, Mapping):
        datalist = read_datalist(datalist)
    parts: dict[str, set[str]] = {}
    for section, value in datalist.items():
        if not isinstance(value, list) or not all(isinstance(it, Mapping) for it in value):
            continue
        for group, item in zip(_groups(value, group_key), value, strict=True):
            fold = item.get(MammoKeys.FOLD)
            parts.setdefault(group, set()).add(f"{section} fold {fold}" if fold is not None else section)
    leaks = {group: sorted(p) for group, p in parts.items() if len(p) > 1}
    if leaks:
        shown = "; ".join(f"patient {g!r} is in {' and '.join(p)}" for g, p in list(leaks.items())[:5])
        more = f" (and {len(leaks) - 5} more patients)" if len(leaks) > 5 else ""
        raise ValueError(f"patient leakage: {shown}{more}.")
    return len(parts)
