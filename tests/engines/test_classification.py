"""Tests of monai_mammo.engines.classification: class imbalance, the test report, k-fold cross-validation."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.utils.data import WeightedRandomSampler

from monai_mammo.engines import (
    Imbalance,
    class_counts,
    class_weights,
    cross_validate,
    imbalance_loss_weights,
    imbalance_sampler,
    report_test_metrics,
)
from monai_mammo.metrics import classification_report

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "mammo_stn_classifier" / "configs"


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


def _fake_evaluator(report: dict | None) -> SimpleNamespace:
    state = SimpleNamespace(metric_details={"test_report": report} if report is not None else {})
    return SimpleNamespace(state=state, run=lambda: None)


def test_report_test_metrics_prints_and_saves(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    report = classification_report([0, 1, 2, 1], np.eye(3)[[0, 1, 2, 0]], 3, n_boot=20)
    out = report_test_metrics(_fake_evaluator(report), "test_report", tmp_path, tmp_path / "model.pt")
    printed = capsys.readouterr().out
    assert out["metrics"]["accuracy"]["value"] == pytest.approx(0.75)
    assert "| Accuracy | 0.750 |" in printed and f"Model: {tmp_path / 'model.pt'}" in printed
    assert json.loads((tmp_path / "test_report.json").read_text())["num_cases"] == 4
    assert (tmp_path / "test_report.md").read_text().startswith("# Test set")


def test_report_test_metrics_without_details_fails(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="no report under 'test_report'"):
        report_test_metrics(_fake_evaluator(None), "test_report", tmp_path)


def test_cross_validate_pools_out_of_fold_predictions(tmp_path: Path) -> None:
    """Three folds of the classifier bundle on tiny synthetic data, one epoch each: every training item is predicted
    once, by a model that neither trained on it nor picked its epoch on it."""
    overrides = {
        "dataset_dir": str(tmp_path / "ds"),
        "synthetic": {"num_images": 24, "image_size": 32, "folds": 3, "test_fraction": 0.25},
        "image_size": 32,
        "epochs": 1,
        "batch_size": 6,
        "sr_channels": 4,
        "sr_blocks": 1,
        "stn_sampler": "bilinear",
        "num_threads": 1,
        "n_boot": 10,
    }
    (tmp_path / "ds").mkdir()
    result = cross_validate(BUNDLE / "train.yaml", 3, tmp_path / "cv", overrides=overrides, n_boot=50)
    assert result["folds"] == [0, 1, 2]
    assert result["pooled"]["num_cases"] == 18  # the 24 - 6 training items, each predicted once
    assert result["pooled"]["resampled"] == "groups"
    assert [(f["fold"], f["validation_fold"]) for f in result["per_fold"]] == [(0, 1), (1, 2), (2, 0)]
    assert (tmp_path / "cv" / "cross_validation.md").read_text().startswith("# Cross-validation")
    assert (tmp_path / "cv" / "fold_1" / "models" / "model.pt").is_file()
    fold_lists = json.loads((tmp_path / "cv" / "fold_1" / "datalist.json").read_text())
    assert {item["fold"] for item in fold_lists["test"]} == {1}
    assert 1 not in {item["fold"] for item in fold_lists["training"]}
    tested = [p["image"] for p in json.loads((tmp_path / "cv" / "predictions.json").read_text())]
    assert len(tested) == len(set(tested)) == 18


def test_cross_validate_needs_three_folds(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    synthetic = {"num_images": 24, "image_size": 32, "folds": 2, "test_fraction": 0.25}
    overrides = {"dataset_dir": str(tmp_path / "ds"), "synthetic": synthetic}
    with pytest.raises(ValueError, match="at least 3 folds"):
        cross_validate(BUNDLE / "train.yaml", 2, tmp_path / "cv", overrides=overrides)
