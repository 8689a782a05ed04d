"""Classification metrics for MONAI/Ignite engines: accumulate an epoch's predictions, compute the report.

``ClassificationReportMetric`` is a MONAI ``CumulativeIterationMetric`` (its buffers are gathered across
ranks under DDP, like ``ROCAUCMetric``); ``ClassificationMetrics`` is its Ignite handler, like MONAI's
``ROCAUC``, usable as ``SupervisedEvaluator(key_val_metric={"val_auc": ClassificationMetrics(...)})``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from monai.handlers import IgniteMetricHandler
from monai.metrics import CumulativeIterationMetric
from monai.utils import StrEnum, look_up_option

from .classification import Average
from .report import classification_report

if TYPE_CHECKING:
    from ignite.engine import Engine

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

    The group of each case (e.g. the woman), added with :meth:`add_groups` in the order of the cases, makes the
    bootstrap resample groups instead of cases (:func:`~monai_mammo.metrics.classification_report`'s ``groups``).

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
        self._groups: list[Any] = []

    def reset(self) -> None:
        super().reset()
        self._groups = []

    def add_groups(self, groups: Sequence[Any]) -> None:
        """Record the group ids of the cases of the latest batch (one per case, in order)."""
        self._groups.extend(groups)

    def _gathered_groups(self, num_cases: int) -> list[Any] | None:
        groups = self._groups
        if torch.distributed.is_available() and torch.distributed.is_initialized():  # the buffers are gathered too
            per_rank: list[Any] = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(per_rank, groups)
            groups = [g for rank_groups in per_rank for g in rank_groups]
        if not groups:
            return None
        if len(groups) != num_cases:
            raise ValueError(f"{len(groups)} group ids for {num_cases} cases: add_groups must see every batch.")
        return groups

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
            groups=self._gathered_groups(len(y)),
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
        group_key: a key of the engine's batch dictionaries whose value groups the cases, e.g. ``"patient_id"``: the
            intervals resample these groups (women), not the images; ``None``: images.

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
        group_key: str | None = None,
    ) -> None:
        metric_fn = ClassificationReportMetric(
            num_classes, metric_name, class_names, n_boot, ci, seed, average, threshold
        )
        super().__init__(metric_fn=metric_fn, output_transform=output_transform, save_details=save_details)
        self.group_key = group_key

    def iteration_completed(self, engine: Engine) -> None:
        super().iteration_completed(engine)
        if self.group_key is None:
            return
        batch: Any = engine.state.batch  # a collated dict, or a list of dicts once MONAI's engines decollate it
        try:
            groups = batch[self.group_key] if isinstance(batch, dict) else [item[self.group_key] for item in batch]
        except KeyError:
            raise KeyError(f"ClassificationMetrics: group_key {self.group_key!r} is not in every batch item.") from None
        metric_fn: ClassificationReportMetric = self.metric_fn  # type: ignore[assignment]
        metric_fn.add_groups(groups.tolist() if isinstance(groups, torch.Tensor) else list(groups))

    def compute(self) -> Any:
        metric_fn: ClassificationReportMetric = self.metric_fn  # type: ignore[assignment]
        value = metric_fn.aggregate()
        self._is_reduced = True
        if self.save_details:
            if self._engine is None or self._name is None:
                raise RuntimeError("call attach() to connect the handler to an engine first.")
            self._engine.state.metric_details[self._name] = metric_fn.report  # type: ignore[attr-defined]
        return value
