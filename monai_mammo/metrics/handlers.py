"""Classification metrics for MONAI/Ignite engines: accumulate an epoch's predictions, compute the report.

``ClassificationReportMetric`` is a MONAI ``CumulativeIterationMetric`` (its buffers are gathered across
ranks under DDP, like ``ROCAUCMetric``); ``ClassificationMetrics`` is its Ignite handler, like MONAI's
``ROCAUC``, usable as ``SupervisedEvaluator(key_val_metric={"val_auc": ClassificationMetrics(...)})``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.handlers import IgniteMetricHandler
from monai.metrics import CumulativeIterationMetric
from monai.utils import StrEnum, look_up_option

from .classification import Average
from .report import classification_report

__all__ = ["ClassificationMetrics", "ClassificationReportMetric", "ReportMetric"]


class ReportMetric(StrEnum):
    """Which number of the report a metric object returns (the engine's key metric)."""

    ACCURACY = "accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    SENSITIVITY = "sensitivity"
    SPECIFICITY = "specificity"
    F1 = "f1"
    AUC = "auc"


class ClassificationReportMetric(CumulativeIterationMetric):
    """Accumulates scores and labels; ``aggregate()`` computes :func:`~monai_mammo.metrics.classification_report`.

    Args:
        num_classes: number of classes.
        metric_name: the report's number that ``aggregate`` returns (:class:`ReportMetric`).
        class_names: names of the classes in the report.
        n_boot: bootstrap resamples per aggregation (0, the default, is fast enough for every epoch).
        ci: interval coverage.
        seed: resampling seed.
        average: summary of per-class values (``"auto"``: positive class for 2 classes, else macro).
        threshold: decision threshold of a binary positive-class score.

    The inputs are batch-first: ``y_pred`` scores ``(B, C)`` (probabilities, e.g. after
    ``Activations(softmax=True)``), ``(B, 1)`` for a binary positive score, or ``(B, 1)`` class indices
    (``AsDiscrete(argmax=True)``; no AUC) for more than two classes; ``y`` labels ``(B,)``, ``(B, 1)``
    or one-hot ``(B, C)``. Lists of channel-first tensors (decollated engine output) are accepted too.
    After ``aggregate`` the full report is in ``self.report``.
    """

    def __init__(
        self,
        num_classes: int,
        metric_name: ReportMetric | str = ReportMetric.AUC,
        class_names: Sequence[str] | None = None,
        n_boot: int = 0,
        ci: float = 0.95,
        seed: int = 0,
        average: Average | str = Average.AUTO,
        threshold: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.metric_name = ReportMetric(look_up_option(metric_name, ReportMetric))
        self.class_names = class_names
        self.n_boot = n_boot
        self.ci = ci
        self.seed = seed
        self.average = average
        self.threshold = threshold
        self.report: dict[str, Any] | None = None

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor | None = None) -> Any:  # type: ignore[override]
        if y is None:
            raise ValueError("ClassificationReportMetric needs the labels y.")
        if y.ndim == 1:
            y = y[:, None]
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        return y_pred, y

    def aggregate(self) -> float:
        """Compute the report over everything accumulated; return its ``metric_name`` value (``NaN`` if undefined)."""
        y_pred, y = self.get_buffer()
        y_pred = y_pred.detach().cpu()
        if y_pred.shape[1] > 1:
            scores = y_pred.double()
        elif self.num_classes == 2 and y_pred.is_floating_point():
            scores = y_pred[:, 0].double()  # the positive-class score
        else:  # one class index per case, e.g. after AsDiscrete(argmax=True)
            if not torch.equal(y_pred, y_pred.round()):
                raise ValueError(f"y_pred has one non-integer value per case but num_classes={self.num_classes}.")
            scores = y_pred[:, 0].long()
        self.report = classification_report(
            y.detach().cpu(),
            scores,
            self.num_classes,
            class_names=self.class_names,
            n_boot=self.n_boot,
            ci=self.ci,
            seed=self.seed,
            average=self.average,
            threshold=self.threshold,
        )
        entry = self.report["metrics"][self.metric_name]
        if entry is None:
            raise ValueError(f"metric_name={self.metric_name!r} needs scores, but y_pred holds class predictions.")
        return float(entry["value"])


class ClassificationMetrics(IgniteMetricHandler):
    """Ignite handler of :class:`ClassificationReportMetric`: one number in ``engine.state.metrics[name]``, and
    (with ``save_details``) the full report in ``engine.state.metric_details[name]``.

    Args:
        num_classes: number of classes.
        metric_name: the report's number stored as the metric (:class:`ReportMetric`).
        class_names: class names in the report.
        n_boot: bootstrap resamples per epoch (0: point estimates only).
        ci: interval coverage.
        seed: resampling seed.
        average: summary of per-class values.
        threshold: decision threshold of a binary positive-class score.
        output_transform: extracts ``(y_pred, y)`` from ``engine.state.output``, e.g.
            ``monai.handlers.from_engine(["pred", "label"])``.
        save_details: keep the full report in ``engine.state.metric_details[name]``.

    Example:
        >>> from monai.handlers import from_engine
        >>> metric = ClassificationMetrics(3, "f1", output_transform=from_engine(["pred", "label"]))
    """

    def __init__(
        self,
        num_classes: int,
        metric_name: ReportMetric | str = ReportMetric.AUC,
        class_names: Sequence[str] | None = None,
        n_boot: int = 0,
        ci: float = 0.95,
        seed: int = 0,
        average: Average | str = Average.AUTO,
        threshold: float = 0.5,
        output_transform: Callable = lambda x: x,
        save_details: bool = True,
    ) -> None:
        metric_fn = ClassificationReportMetric(
            num_classes, metric_name, class_names, n_boot, ci, seed, average, threshold
        )
        super().__init__(metric_fn=metric_fn, output_transform=output_transform, save_details=save_details)

    def compute(self) -> Any:
        metric_fn: ClassificationReportMetric = self.metric_fn  # type: ignore[assignment]
        value = metric_fn.aggregate()
        self._is_reduced = True
        if self.save_details:
            if self._engine is None or self._name is None:
                raise RuntimeError("call attach() to connect the handler to an engine first.")
            self._engine.state.metric_details[self._name] = metric_fn.report  # type: ignore[attr-defined]
        return value
