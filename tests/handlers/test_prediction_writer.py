"""Tests of monai_mammo.handlers.prediction_writer: per-image predictions written as CSV and JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from monai.data import DataLoader, Dataset, MetaTensor
from monai.engines import SupervisedEvaluator
from monai.transforms import Activationsd, Compose

from monai_mammo.handlers import PredictionWriter, prediction_records

NAMES = ["normal", "benign", "malignant"]


class _Fixed(torch.nn.Module):
    """Logits that make image i predict class i % 3."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = x.mean(dim=(1, 2, 3)).round().long() % 3
        return torch.nn.functional.one_hot(index, 3).float() * 5


def _items(n: int, labels: bool) -> list[dict]:
    items = []
    for i in range(n):
        image = MetaTensor(torch.full((1, 4, 4), float(i)), meta={"filename_or_obj": f"/data/{i}.png"})
        item = {"image": image, "patient_id": f"P{i // 2}"}
        if labels:
            item["label"] = i % 3
        items.append(item)
    return items


@pytest.mark.parametrize("labels", [True, False])
def test_writer_writes_one_row_per_image(tmp_path: Path, labels: bool) -> None:
    loader = DataLoader(Dataset(_items(5, labels)), batch_size=2)
    writer = PredictionWriter(tmp_path, NAMES)
    evaluator = SupervisedEvaluator(
        device="cpu",
        val_data_loader=loader,
        network=_Fixed(),
        postprocessing=Compose([Activationsd(keys="pred", softmax=True)]),
        val_handlers=[writer],
    )
    evaluator.run()
    content = json.loads((tmp_path / "predictions.json").read_text())
    assert content["class_names"] == NAMES
    records = content["predictions"]
    assert [r["image"] for r in records] == [f"/data/{i}.png" for i in range(5)]
    assert [r["pred"] for r in records] == [0, 1, 2, 0, 1]
    assert [r["pred_name"] for r in records][:3] == NAMES
    assert [r["label"] for r in records] == ([0, 1, 2, 0, 1] if labels else [None] * 5)
    assert records[3]["patient_id"] == "P1"
    assert sum(records[0]["probabilities"]) == pytest.approx(1.0)
    with open(tmp_path / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 and rows[2]["pred_name"] == "malignant" and float(rows[2]["prob_malignant"]) > 0.9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.csv", "predictions.json"]  # no temporaries


def test_wrong_number_of_scores_fails() -> None:
    with pytest.raises(ValueError, match="has 2 scores but there are 3 class names"):
        prediction_records([{"pred": torch.tensor([0.5, 0.5])}], None, NAMES)


def test_writer_needs_class_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="class_names"):
        PredictionWriter(tmp_path, [])
