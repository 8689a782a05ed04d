"""The test report of a classification bundle: run the evaluator, print the metrics with CIs, save them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch.distributed as dist
from monai.utils import IgniteInfo, min_version, optional_import

from monai_mammo.metrics import format_report_markdown
from monai_mammo.utils import atomic_write_text

__all__ = ["report_test_metrics"]


if TYPE_CHECKING:
    from ignite.engine import Engine
else:
    Engine, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Engine")


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def report_test_metrics(
    evaluator: Engine,
    metric_name: str,
    output_dir: str | os.PathLike,
    model_path: str | os.PathLike | None = None,
    title: str = "Test set",
    run: bool = True,
) -> dict[str, Any]:
    """Run an evaluator, print its classification report (with CIs) and where the model is; save the report.

    Args:
        evaluator: a MONAI ``SupervisedEvaluator`` whose ``metric_name`` is a
            :class:`~monai_mammo.metrics.ClassificationMetrics` (``save_details=True``).
        metric_name: the metric's name in ``key_val_metric`` / ``additional_metrics``.
        output_dir: where ``{metric_name}.json`` and ``{metric_name}.md`` are written (atomically).
        model_path: the model file to name in the printout.
        title: heading of the printout.
        run: run the evaluator first (``False``: it has run already).

    Returns:
        The report (see :func:`~monai_mammo.metrics.classification_report`).

    Raises:
        KeyError: the evaluator has no details for ``metric_name``.
    """
    if run:
        evaluator.run()
    details = getattr(evaluator.state, "metric_details", {})
    if metric_name not in details or details[metric_name] is None:
        raise KeyError(f"the evaluator has no report under {metric_name!r}; metrics: {sorted(details)}.")
    report = details[metric_name]
    if _rank() == 0:
        out = Path(output_dir)
        atomic_write_text(out / f"{metric_name}.json", json.dumps(report, indent=2))
        text = format_report_markdown(report)
        atomic_write_text(out / f"{metric_name}.md", f"# {title}\n\n{text}")
        lines = [f"\n## {title}\n", text, f"Report saved to {out / (metric_name + '.md')}"]
        if model_path is not None:
            lines.append(f"Model: {os.path.abspath(model_path)}")
        print("\n".join(lines), flush=True)
    return dict(report)
