"""Stratified, patient-grouped, seeded splits and the leakage check."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monai_mammo.data.datalist import write_datalist
from monai_mammo.data.splits import check_no_patient_leakage, grouped_kfold, split_datalist


def _items(patients: int = 60) -> list[dict]:
    """Patients with 1-3 images each; the label follows the patient (as in MIAS, mostly)."""
    items = []
    for p in range(patients):
        for image in range(1 + p % 3):
            items.append({"image": f"p{p}_{image}.png", "label": p % 3 if p % 5 else 0, "patient_id": f"p{p}"})
    return items


def _parts(datalist: dict) -> dict[str, set]:
    parts: dict[str, set] = {}
    for section, items in datalist.items():
        for item in items:
            parts.setdefault(item["patient_id"], set()).add((section, item.get("fold")))
    return parts


@pytest.mark.parametrize(("folds", "test_fraction"), [(5, 0.2), (3, 0.3), (2, 0.0)])
def test_no_patient_in_two_parts(folds: int, test_fraction: float) -> None:
    datalist = split_datalist(_items(), folds=folds, test_fraction=test_fraction, seed=1)
    assert all(len(p) == 1 for p in _parts(datalist).values())
    assert {it["fold"] for it in datalist["training"]} == set(range(folds))
    assert ("test" in datalist) == (test_fraction > 0)
    assert check_no_patient_leakage(datalist) == 60


@pytest.mark.parametrize("test_fraction", [0.2, 0.3, 0.15])
def test_test_fraction(test_fraction: float) -> None:
    datalist = split_datalist(_items(), test_fraction=test_fraction)
    patients = {it["patient_id"] for it in datalist["test"]}
    assert abs(len(patients) / 60 - test_fraction) <= 0.05


def test_stratified() -> None:
    datalist = split_datalist(_items(90), folds=3, test_fraction=0.0)
    total = Counter(it["label"] for it in datalist["training"])
    for k in range(3):
        counts = Counter(it["label"] for it in datalist["training"] if it["fold"] == k)
        assert all(abs(counts[c] - total[c] / 3) <= 0.25 * total[c] / 3 + 2 for c in total)


def test_deterministic_from_seed() -> None:
    items = _items()
    assert split_datalist(items, seed=3) == split_datalist(items, seed=3)
    assert split_datalist(items, seed=3) != split_datalist(items, seed=4)
    assert "fold" not in items[0]  # inputs are not modified


def test_leakage_named() -> None:
    datalist = {
        "training": [{"image": "a", "patient_id": "w1", "fold": 0}, {"image": "b", "patient_id": "w1", "fold": 2}],
        "test": [{"image": "c", "patient_id": "w2"}, {"image": "d", "patient_id": "w1"}],
        "name": "not a list of items",
    }
    with pytest.raises(ValueError, match="patient 'w1' is in test and training fold 0 and training fold 2"):
        check_no_patient_leakage(datalist)


def test_leakage_check_reads_a_file(tmp_path: Path) -> None:
    path = write_datalist(tmp_path / "d.json", split_datalist(_items(), folds=3))
    assert check_no_patient_leakage(path) == 60


@pytest.mark.parametrize(("folds", "message"), [(1, "folds must be >= 2"), (61, "cannot fill 61 folds")])
def test_bad_folds(folds: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grouped_kfold(_items(), folds)


def test_bad_test_fraction() -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        split_datalist(_items(), test_fraction=1.0)
