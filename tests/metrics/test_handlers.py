"""Tests of monai_mammo.metrics.handlers: the cumulative metric and its Ignite handler in a MONAI evaluator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.engines import SupervisedEvaluator
from monai.handlers import from_engine

from monai_mammo.metrics import (
    ClassificationMetrics,
    ClassificationReportMetric,
    classification_metrics,
    classification_report,
)

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


def test_group_key_resamples_women_in_an_evaluator():
    """Two images per woman: with group_key the intervals resample the 12 women, as classification_report's groups."""
    women = [f"W{i // 2:02d}" for i in range(24)]
    data = [
        {
            "image": torch.as_tensor(S[i : i + 6], dtype=torch.float),
            "label": torch.as_tensor(Y[i : i + 6]),
            "patient_id": women[i : i + 6],  # a collated batch: a list of strings
        }
        for i in range(0, 24, 6)
    ]

    def run(group_key):
        handler = ClassificationMetrics(
            3, "auc", n_boot=200, output_transform=from_engine(["pred", "label"]), group_key=group_key
        )
        evaluator = SupervisedEvaluator(
            device="cpu", val_data_loader=data, network=torch.nn.Identity(), key_val_metric={"auc": handler}
        )
        evaluator.run()
        evaluator.run()  # a second epoch starts over (no groups left from the first)
        return evaluator.state.metric_details["auc"]

    grouped, by_image = run("patient_id"), run(None)
    expected = classification_report(Y, S, 3, n_boot=200, groups=women)
    assert grouped["resampled"] == expected["resampled"] != by_image["resampled"]
    assert grouped["num_groups"] == 12 and grouped["metrics"]["auc"]["ci"] == expected["metrics"]["auc"]["ci"]
    with pytest.raises(KeyError, match="group_key 'woman' is not in every batch item"):
        run("woman")
