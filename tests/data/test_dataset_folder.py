"""Tests of monai_mammo.data.dataset_folder: finding or generating the dataset, datalists, folds, class checks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from monai_mammo.data import DATALIST_NAME, bundle_datalists, ensure_dataset, read_datalist, write_datalist

TINY = {"num_images": 12, "image_size": 32, "folds": 2, "test_fraction": 0.25}


def _labelled(folder: Path, labels: list[int]) -> Path:
    """A datalist of ``labels`` in two folds, written by the package's own writer."""
    items = [{"image": f"images/{i}.png", "label": lab, "fold": i % 2} for i, lab in enumerate(labels)]
    return write_datalist(folder / DATALIST_NAME, {"training": items})


def test_empty_dir_gets_synthetic_data(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="monai_mammo.data.dataset_folder"):
        path = ensure_dataset(tmp_path, synthetic=TINY)
    assert path == (tmp_path / DATALIST_NAME).resolve()
    lists = read_datalist(path)
    assert len(lists["training"]) + len(lists["test"]) == TINY["num_images"]
    assert all(Path(item["image"]).is_file() for item in lists["training"])
    assert "generating the synthetic default dataset" in caplog.text


def test_default_dir_is_created(tmp_path: Path) -> None:
    default = tmp_path / "bundle" / "dataset"
    path = ensure_dataset(None, synthetic=TINY, default_dir=default)
    assert path.parent == default.resolve()


def test_existing_datalist_is_used_without_generating(tmp_path: Path) -> None:
    path = _labelled(tmp_path, [0, 1, 2, 0])
    assert ensure_dataset(tmp_path) == path.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == [DATALIST_NAME]


def test_explicit_datalist_wins_over_dataset_dir(tmp_path: Path) -> None:
    path = _labelled(tmp_path / "mias", [0, 1, 2, 0])
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


def test_bundle_datalists_checks_labels_against_num_classes(tmp_path: Path) -> None:
    _labelled(tmp_path, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="class count mismatch"):
        bundle_datalists(tmp_path, num_classes=2)
    data = bundle_datalists(tmp_path, num_classes=3)
    assert data["datalist"] == str((tmp_path / DATALIST_NAME).resolve())
    assert len(data["train"]) == 2 and len(data["val"]) == 2


def test_bundle_datalists_of_a_mias_datalist_batch(tmp_path: Path, mias_dir: Path) -> None:
    """A ``prepare mias`` datalist holds per-lesion lists of different lengths; the bundle's items keep only what a
    data loader can batch, so a batch of real MIAS items collates."""
    from monai.data import DataLoader

    from monai_mammo.data import mias_items, split_datalist

    datalist = write_datalist(tmp_path / "mias.json", split_datalist(mias_items(mias_dir), folds=3, test_fraction=0))
    data = bundle_datalists(None, datalist, fold=0, num_classes=3)
    assert all(not isinstance(v, (list, dict)) and v is not None for item in data["train"] for v in item.values())
    assert {"image", "label", "patient_id", "fold", "laterality"} <= set(data["val"][0])
    batch = next(iter(DataLoader(data["val"], batch_size=len(data["val"]))))
    assert len(batch["image"]) == len(data["val"])


def test_ensure_generates_once_and_respects_other_data(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.mkdir()
    path = ensure_dataset(target, synthetic={"num_images": 24, "image_size": 48, "modality": "MG", "folds": 2})
    stamp = path.stat().st_mtime_ns
    assert ensure_dataset(target).stat().st_mtime_ns == stamp
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "x.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"holds files but no datalist\.json"):
        ensure_dataset(tmp_path / "mine")


def test_merged_datalists_keep_the_keys_every_item_has(tmp_path: Path) -> None:
    """MIAS items carry laterality, BUSI items do not: a merged datalist still collates into batches."""
    from monai.data import list_data_collate

    items = [{"image": f"{i}.png", "label": i % 2, "fold": i % 2, "laterality": "L"} for i in range(4)]
    items += [{"image": f"u{i}.png", "label": i % 2, "fold": i % 2} for i in range(4)]
    path = write_datalist(tmp_path / DATALIST_NAME, {"training": items})
    data = bundle_datalists(tmp_path, num_classes=2)
    assert all(set(item) == {"image", "label", "fold"} for item in data["train"] + data["val"])
    assert len(list_data_collate(data["train"])["image"]) == 4 and data["datalist"] == str(path.resolve())
