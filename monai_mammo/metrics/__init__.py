"""Metrics: classification metrics with bootstrap confidence intervals, masked PSNR/SSIM for super-resolution.

Imports only from :mod:`monai_mammo.utils` among monai_mammo's sub-packages.
"""

from __future__ import annotations

from .bootstrap import BootstrapCI, bootstrap_ci, bootstrap_counts, percentile_interval
from .classification import (
    Average,
    accuracy,
    check_classification_inputs,
    classification_metrics,
    confusion_matrix,
    f1_score,
    metrics_from_confusion,
    precision,
    recall,
    roc_auc,
    sensitivity,
    specificity,
)
from .handlers import ClassificationMetrics, ClassificationReportMetric, ReportMetric
from .image_quality import bicubic_upsample, masked_psnr, masked_ssim
from .report import classification_report, format_report_markdown

__all__ = [
    "Average",
    "BootstrapCI",
    "ClassificationMetrics",
    "ClassificationReportMetric",
    "ReportMetric",
    "accuracy",
    "bicubic_upsample",
    "bootstrap_ci",
    "bootstrap_counts",
    "check_classification_inputs",
    "classification_metrics",
    "classification_report",
    "confusion_matrix",
    "f1_score",
    "format_report_markdown",
    "masked_psnr",
    "masked_ssim",
    "metrics_from_confusion",
    "percentile_interval",
    "precision",
    "recall",
    "roc_auc",
    "sensitivity",
    "specificity",
]
