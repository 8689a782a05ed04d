"""Tests of monai_mammo.metrics.report: the classification report with intervals, and its Markdown."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from monai_mammo.metrics import (
    accuracy,
    bootstrap_ci,
    classification_metrics,
    classification_report,
    format_report_markdown,
)

RNG = np.random.default_rng(0)
Y = np.r_[np.arange(3), RNG.integers(0, 3, 57)]
S = RNG.random((60, 3)) + 0.8 * np.eye(3)[Y]
S /= S.sum(1, keepdims=True)
NAMES = ["normal", "benign", "malignant"]


@pytest.fixture(scope="module")
def report():
    return classification_report(Y, S, 3, class_names=NAMES, n_boot=300, seed=1)


def test_point_estimates_match_classification_metrics(report):
    point = classification_metrics(Y, S, 3)
    for key in ("accuracy", "precision", "recall", "sensitivity", "specificity", "f1", "auc"):
        assert report["metrics"][key]["value"] == pytest.approx(point[key])
    np.testing.assert_allclose([report["per_class"][n]["f1"]["value"] for n in NAMES], point["per_class"]["f1"])
    assert report["confusion_matrix"] == point["confusion_matrix"].tolist()


def test_intervals_contain_point_estimates(report):
    for entry in report["metrics"].values():
        low, high = entry["ci"]
        assert low <= entry["value"] <= high
    for row in report["per_class"].values():
        assert row["auc"]["ci"][0] <= row["auc"]["value"] <= row["auc"]["ci"][1]


def test_deterministic_and_json_serialisable(report):
    again = classification_report(torch.as_tensor(Y), torch.as_tensor(S), 3, class_names=NAMES, n_boot=300, seed=1)
    assert json.dumps(again) == json.dumps(report)


def test_same_resamples_as_generic_bootstrap():
    groups = np.arange(60) // 3
    rep = classification_report(Y, S, 3, n_boot=200, seed=5, groups=groups)
    generic = bootstrap_ci(lambda y, s: accuracy(y, s, 3), Y, S, n_boot=200, seed=5, groups=groups)
    assert rep["metrics"]["accuracy"]["ci"] == pytest.approx([generic.low, generic.high])
    assert rep["resampled"] == "groups" and rep["num_groups"] == 20


def test_one_class_only_skips_every_auc_resample():
    rep = classification_report(np.ones(10, dtype=int), np.linspace(0.1, 0.9, 10), 2, n_boot=50)
    auc = rep["metrics"]["auc"]
    assert np.isnan(auc["value"]) and auc["n_skipped"] == 50 and np.isnan(auc["ci"][0])
    assert rep["metrics"]["accuracy"]["n_skipped"] == 0


def test_hard_predictions_have_no_auc():
    rep = classification_report(Y, S.argmax(1), 3, n_boot=20)
    assert rep["metrics"]["auc"] is None
    assert "ROC AUC" not in format_report_markdown(rep)


def test_markdown_tables(report):
    text = format_report_markdown(report)
    assert "| Accuracy |" in text and "95% CI" in text
    assert "| malignant |" in text and "true \\ predicted" in text
    value = report["metrics"]["f1"]["value"]
    assert f"| F1 | {value:.3f} |" in text


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"class_names": ["a", "b"]}, "class_names"),
        ({"class_names": ["a", "a", "b"]}, "class_names"),
        ({"average": "none"}, "not a summary"),
        ({"average": "binary"}, "num_classes=2"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        classification_report(Y, S, 3, n_boot=10, **kwargs)
