"""Tests of monai_mammo.metrics.handlers: the cumulative metric and its Ignite handler in a MONAI evaluator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.engines import SupervisedEvaluator
from monai.handlers import from_engine

from monai_mammo.metrics import ClassificationMetrics, ClassificationReportMetric, classification_metrics

RNG = np.random.default_rng(0)
Y = np.r_[0, 1, 2, RNG.integers(0, 3, 21)]
S = RNG.random((24, 3))
S /= S.sum(1, keepdims=True)


@pytest.mark.parametrize("name", ["accuracy", "f1", "auc", "specificity"])
def test_cumulative_metric_equals_functional(name):
    metric = ClassificationReportMetric(3, name)
    for start in range(0, 24, 8):  # three batches
        metric(torch.as_tensor(S[start : start + 8]), torch.as_tensor(Y[start : start + 8]))
    assert metric.aggregate() == pytest.approx(classification_metrics(Y, S, 3)[name])
    assert metric.report is not None and metric.report["num_cases"] == 24


def test_class_indices_after_argmax():
    metric = ClassificationReportMetric(3, "accuracy")
    metric(torch.as_tensor(S.argmax(1)[:, None], dtype=torch.float), torch.as_tensor(Y))
    assert metric.aggregate() == pytest.approx(np.mean(S.argmax(1) == Y))
    auc = ClassificationReportMetric(3, "auc")
    auc(torch.as_tensor(S.argmax(1)[:, None], dtype=torch.float), torch.as_tensor(Y))
    with pytest.raises(ValueError, match="needs scores"):
        auc.aggregate()


def test_in_supervised_evaluator():
    data = [
        {"image": torch.as_tensor(S[i : i + 6], dtype=torch.float), "label": torch.as_tensor(Y[i : i + 6])}
        for i in range(0, 24, 6)
    ]
    handler = ClassificationMetrics(
        3,
        "auc",
        class_names=["normal", "benign", "malignant"],
        n_boot=50,
        output_transform=from_engine(["pred", "label"]),
    )
    evaluator = SupervisedEvaluator(
        device="cpu",
        val_data_loader=data,
        network=torch.nn.Identity(),  # the "network" returns the scores as they are
        key_val_metric={"val_auc": handler},
    )
    evaluator.run()
    assert evaluator.state.metrics["val_auc"] == pytest.approx(classification_metrics(Y, S, 3)["auc"])
    report = evaluator.state.metric_details["val_auc"]
    assert report["n_boot"] == 50 and set(report["per_class"]) == {"normal", "benign", "malignant"}
