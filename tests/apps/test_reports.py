"""The test report of a classification bundle."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from monai_mammo.apps import report_test_metrics
from monai_mammo.metrics import classification_report


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
