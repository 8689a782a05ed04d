"""Tests of monai_mammo.engines.bundle_data: finding or generating the dataset, datalists, folds, class checks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from monai_mammo.engines import (
    DATALIST_NAME,
    bundle_datalists,
    check_num_classes,
    ensure_dataset,
    load_datalist,
    select_fold,
)

TINY = {"num_images": 12, "image_size": 32, "folds": 2, "test_fraction": 0.25}


def _write_datalist(folder: Path, training: list[dict], **extra: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DATALIST_NAME
    path.write_text(json.dumps({"training": training, **extra}), encoding="utf-8")
    return path


def _items(labels: list[int], folds: list[int] | None = None) -> list[dict]:
    folds = folds if folds is not None else [i % 2 for i in range(len(labels))]
    return [
        {"image": f"images/{i}.png", "label": lab, "patient_id": f"P{i}", "fold": f, "mask": None}
        for i, (lab, f) in enumerate(zip(labels, folds, strict=True))
    ]


def test_empty_dir_gets_synthetic_data(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="monai_mammo.engines.bundle_data"):
        path = ensure_dataset(tmp_path, synthetic=TINY)
    assert path == (tmp_path / DATALIST_NAME).resolve()
    lists = load_datalist(path)
    assert len(lists["training"]) + len(lists["test"]) == TINY["num_images"]
    assert all(Path(item["image"]).is_file() for item in lists["training"])
    assert "generating the synthetic default dataset" in caplog.text


def test_default_dir_is_created(tmp_path: Path) -> None:
    default = tmp_path / "bundle" / "dataset"
    path = ensure_dataset(None, synthetic=TINY, default_dir=default)
    assert path.parent == default.resolve()


def test_existing_datalist_is_used_without_generating(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path, _items([0, 1, 2, 0]))
    assert ensure_dataset(tmp_path) == path.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == [DATALIST_NAME]


def test_explicit_datalist_wins_over_dataset_dir(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path / "mias", _items([0, 1, 2, 0]))
    assert ensure_dataset(tmp_path / "not_there", datalist=path) == path.resolve()


@pytest.mark.parametrize(
    ("dataset_dir", "datalist", "error", "match"),
    [
        ("missing_dir", None, FileNotFoundError, "dataset_dir .*missing_dir.* does not exist"),
        (None, "missing.json", FileNotFoundError, "datalist .*missing.json.* does not exist"),
        (None, None, ValueError, "give dataset_dir"),
    ],
)
def test_missing_inputs_fail_clearly(
    tmp_path: Path, dataset_dir: str | None, datalist: str | None, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        ensure_dataset(
            None if dataset_dir is None else tmp_path / dataset_dir,
            None if datalist is None else tmp_path / datalist,
        )


def test_non_empty_dir_without_datalist_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "image.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"holds files but no datalist\.json"):
        ensure_dataset(tmp_path)


def test_relative_paths_are_resolved_against_the_datalist(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path / "ds", _items([0, 1]), test=[{"image": "/abs/x.png", "label": 0}])
    lists = load_datalist(path)
    assert lists["training"][0]["image"] == str(tmp_path / "ds" / "images" / "0.png")
    assert lists["training"][0]["mask"] is None
    assert lists["test"][0]["image"] == "/abs/x.png"


@pytest.mark.parametrize(("content", "match"), [("{not json", "not valid JSON"), ('{"test": []}', "'training' list")])
def test_bad_datalists_fail(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        load_datalist(path)


def test_split_by_fold(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path, _items([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 1]), test=_items([2, 1, 0]))
    split = select_fold(path, fold=1, num_classes=3)
    assert [item["fold"] for item in split["train"]] == [0, 0, 0]
    assert [item["fold"] for item in split["val"]] == [1, 1, 1]
    assert len(split["test"]) == 3


def test_validation_list_replaces_folds(tmp_path: Path) -> None:
    path = _write_datalist(tmp_path, _items([0, 1, 2]), validation=_items([2, 1, 0]))
    split = select_fold(path, fold=0)
    assert len(split["train"]) == 3 and len(split["val"]) == 3 and split["test"] == []


@pytest.mark.parametrize(
    ("items", "fold", "match"),
    [
        (_items([0, 1, 2], [0, 0, 0]), 3, r"fold=3 is not one of the datalist's folds \[0\]"),
        ([{"image": "a.png", "label": 0}], 0, "have no 'fold'"),
        (_items([0, 1, 2], [0, 0, 0]), 0, "0 training and 3 validation items"),
    ],
)
def test_bad_folds_fail(tmp_path: Path, items: list[dict], fold: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        select_fold(_write_datalist(tmp_path, items), fold=fold)


@pytest.mark.parametrize(
    ("labels", "num_classes", "match"),
    [
        ([0, 1, 2], 2, r"num_classes=2 .* labels \[0, 1, 2\]"),
        ([0, 1], 3, r"num_classes=3 .* labels \[0, 1\]"),
        ([0, -1, 1], 2, "class count mismatch"),
        ([0, 1.5], 2, "must be integers"),
        ([0, "benign"], 2, "must be integers"),
    ],
)
def test_class_count_mismatch(labels: list, num_classes: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_num_classes([{"label": lab} for lab in labels], num_classes)


def test_matching_classes_pass() -> None:
    check_num_classes([{"label": lab} for lab in (2, 0, 1, 1)], 3)


def test_bundle_datalists_checks_labels_against_num_classes(tmp_path: Path) -> None:
    _write_datalist(tmp_path, _items([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="class count mismatch"):
        bundle_datalists(tmp_path, num_classes=2)
    data = bundle_datalists(tmp_path, num_classes=3)
    assert data["datalist"] == str((tmp_path / DATALIST_NAME).resolve())
    assert len(data["train"]) == 2 and len(data["val"]) == 2


def test_bundle_datalists_of_a_mias_datalist_batch(tmp_path: Path, mias_dir: Path) -> None:
    """A ``prepare mias`` datalist holds per-lesion lists of different lengths; the bundle's items keep only what a
    data loader can batch, so a batch of real MIAS items collates."""
    from monai.data import DataLoader

    from monai_mammo.data import mias_items, split_datalist, write_datalist

    datalist = write_datalist(tmp_path / "mias.json", split_datalist(mias_items(mias_dir), folds=3, test_fraction=0))
    data = bundle_datalists(None, datalist, fold=0, num_classes=3)
    assert all(not isinstance(v, (list, dict)) and v is not None for item in data["train"] for v in item.values())
    assert {"image", "label", "patient_id", "fold", "laterality"} <= set(data["val"][0])
    batch = next(iter(DataLoader(data["val"], batch_size=len(data["val"]))))
    assert len(batch["image"]) == len(data["val"])
