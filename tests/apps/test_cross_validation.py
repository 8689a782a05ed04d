"""Cross-validation of the classification bundle: the epoch never chosen on the reported fold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monai_mammo.apps import cross_validate

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "mammo_stn_classifier" / "configs"


def _tiny(tmp_path: Path, **changes: object) -> dict:
    """Overrides for seconds-long folds: tiny synthetic data generated into tmp_path/ds, small networks, 1 epoch."""
    (tmp_path / "ds").mkdir(exist_ok=True)
    return {
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
        **changes,
    }


def test_cross_validate_pools_out_of_fold_predictions(tmp_path: Path) -> None:
    """Three folds of the classifier bundle on tiny synthetic data, one epoch each: every training item is predicted
    once, by a model that neither trained on it nor picked its epoch on it."""
    overrides = _tiny(tmp_path)
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


def test_cross_validate_runs_a_pretraining_stage_per_fold(tmp_path: Path) -> None:
    """pretrain_config: each fold runs the overlay's `pretraining` on its own training and validation folds first,
    then trains from the weights it wrote (its patch_weights_path as pretrained_weights)."""
    overlay = tmp_path / "pretrain.yaml"
    overlay.write_text(
        "patch_weights_path: \"$@run_dir + '/pre/backbone.pt'\"\n"
        "pretraining:\n"
        "  - \"$os.makedirs(@run_dir + '/pre', exist_ok=True)\"\n"
        '  - "$torch.save(@network_def.classifier.backbone.state_dict(), @patch_weights_path)"\n'
        "  - \"$open(@run_dir + '/pre/stage.txt', 'w').write('%d %d' % (@fold, @epochs))\"\n"
    )
    overrides = _tiny(tmp_path, use_sr=False, use_stn=False)
    result = cross_validate(
        BUNDLE / "train.yaml",
        [0, 1],
        tmp_path / "cv",
        overrides=overrides,
        n_boot=10,
        pretrain_config=overlay,
        pretrain_overrides={"epochs": 7},
    )
    assert [(f["fold"], f["validation_fold"]) for f in result["per_fold"]] == [(0, 1), (1, 2)]
    for fold, validation in ((0, 1), (1, 2)):
        stage = tmp_path / "cv" / f"fold_{fold}" / "pre"
        assert (stage / "backbone.pt").is_file()
        assert (stage / "stage.txt").read_text() == f"{validation} 7"  # the fold's split, its own overrides
        assert (tmp_path / "cv" / f"fold_{fold}" / "models" / "model.pt").is_file()
