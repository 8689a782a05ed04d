"""The lesion-patch stage's helpers: which items give patches, its size checks, the backbone export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from monai_mammo.apps import check_patch_settings, export_backbone, lesion_patch_lists
from monai_mammo.networks.nets import ResNet50Classifier, SRGANSTNClassifier


def _datalist(path: Path, items: list[dict]) -> Path:
    path.write_text(json.dumps({"training": items}))
    return path


def test_lesion_patch_lists_keep_normal_and_located_images(tmp_path: Path) -> None:
    items = [
        {"image": "/a.png", "label": 0, "fold": 0, "patient_id": "w1"},
        {"image": "/b.png", "label": 2, "fold": 0, "centers": [[5, 6]], "radii": [3], "patient_id": "w2"},
        {"image": "/c.png", "label": 1, "fold": 0, "centers": [], "radii": [], "patient_id": "w3"},  # spread calcs
        {"image": "/d.png", "label": 1, "fold": 1, "centers": [[1, 2]], "radii": [4], "patient_id": "w4"},
        {"image": "/e.png", "label": 0, "fold": 1, "patient_id": "w5"},
        {"image": "/f.png", "label": 2, "fold": 0, "mask": "/f_mask.png", "patient_id": "w6"},  # a lesion mask image
    ]
    lists = lesion_patch_lists(_datalist(tmp_path / "d.json", items), fold=1)
    assert [i["image"] for i in lists["train"]] == ["/a.png", "/b.png", "/f.png"]
    assert lists["train"][2] == {
        "image": "/f.png",
        "mask": "/f_mask.png",
        "patient_id": "w6",
        "centers": [],
        "radii": [],
    }
    assert lists["train"][0] == {"image": "/a.png", "patient_id": "w1", "centers": [], "radii": []}
    assert lists["train"][1]["centers"] == [[5, 6]] and lists["train"][1]["radii"] == [3]
    assert [i["image"] for i in lists["val"]] == ["/d.png", "/e.png"]


def test_lesion_patch_lists_need_located_lesions_in_both_parts(tmp_path: Path) -> None:
    items = [
        {"image": "/a.png", "label": 0, "fold": 0},
        {"image": "/b.png", "label": 1, "fold": 0, "centers": [[5, 6]], "radii": [3]},
        {"image": "/e.png", "label": 0, "fold": 1},
    ]
    path = _datalist(tmp_path / "d.json", items)
    with pytest.raises(ValueError, match=r"d.json': no validation \(fold 1\) image has a located lesion"):
        lesion_patch_lists(path, fold=1)
    with pytest.raises(ValueError, match="no training image has a located lesion"):
        lesion_patch_lists(path, fold=0)


def test_check_patch_settings() -> None:
    assert check_patch_settings(32, 128, 8)
    with pytest.raises(ValueError, match=r"patch_size must lie between 32 .* got 16; .* image_size of at least 128"):
        check_patch_settings(16, 64, 8)
    with pytest.raises(ValueError, match=r"patch_size must lie between 32 .* image_size=64, got 96"):
        check_patch_settings(96, 64, 8)
    with pytest.raises(ValueError, match="patches_per_image must be >= 1"):
        check_patch_settings(32, 64, 0)
    with pytest.raises(ValueError, match="lesion_radius_scale must be > 0"):
        check_patch_settings(32, 64, 8, radius_scale=0)


def test_export_backbone_writes_what_pretrained_weights_loads(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = SRGANSTNClassifier(num_classes=2, use_sr=False, use_stn=False, classifier={"avg_down": True})
    torch.save(net.state_dict(), tmp_path / "model.pt")
    fresh = SRGANSTNClassifier(num_classes=2, use_sr=False, use_stn=False, classifier={"avg_down": True})
    out = export_backbone(tmp_path / "model.pt", fresh, tmp_path / "sub" / "backbone.pt")
    assert out == str(tmp_path / "sub" / "backbone.pt") and not list((tmp_path / "sub").glob(".*.tmp"))
    whole = ResNet50Classifier(num_classes=3, pretrained_weights=out, avg_down=True)
    for key, value in net.classifier.backbone.state_dict().items():
        assert torch.equal(whole.backbone.state_dict()[key], value), key
    with pytest.raises(FileNotFoundError, match="no trained model at"):
        export_backbone(tmp_path / "missing.pt", fresh, tmp_path / "x.pt")
    with pytest.raises(ValueError, match=r"has no classifier\.backbone"):
        export_backbone(tmp_path / "model.pt", torch.nn.Linear(2, 2), tmp_path / "x.pt")
