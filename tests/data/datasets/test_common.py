"""Labels and the bad-input policy shared by the builders."""

from __future__ import annotations

import pytest

from monai_mammo.data.datasets import BadInputWarning, class_label, class_name
from monai_mammo.data.datasets.common import Problems


@pytest.mark.parametrize(
    ("name", "label", "canonical"),
    [
        ("normal", 0, "normal"),
        ("Benign", 1, "benign"),
        (" MALIGNANT ", 2, "malignant"),
        ("2", 2, "malignant"),
        (1, 1, "benign"),
    ],
)
def test_class_label(name: str | int, label: int, canonical: str) -> None:
    assert class_label(name) == label
    assert class_name(label) == canonical


@pytest.mark.parametrize("name", ["cyst", "3", -1])
def test_unknown_label(name: str | int) -> None:
    with pytest.raises(ValueError):
        class_label(name)


def test_problems_raise() -> None:
    with pytest.raises(FileNotFoundError, match="bad row"):
        Problems("file.csv")("bad row", FileNotFoundError)


def test_problems_warn_counts() -> None:
    problems = Problems("file.csv", "warn")
    problems("row 2 bad")
    problems("row 3 bad")
    with pytest.warns(BadInputWarning, match="file.csv: left out 2"):
        assert problems.finish() == 2


def test_problems_bad_policy() -> None:
    with pytest.raises(ValueError):
        Problems("file.csv", "ignore")
