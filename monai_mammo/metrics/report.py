"""A classification report: every metric with its bootstrap confidence interval, and a Markdown rendering."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .bootstrap import _check_bootstrap_args, _group_index, bootstrap_counts, percentile_interval
from .classification import (
    Average,
    _metric_batch,
    _resolve_average,
    _summarise,
    check_classification_inputs,
    weighted_confusion,
)

__all__ = ["classification_report", "format_report_markdown"]

_SUMMARY = ("accuracy", "precision", "recall", "sensitivity", "specificity", "f1", "auc")
_PER_CLASS = ("precision", "recall", "specificity", "f1", "auc")
_TITLES = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "f1": "F1",
    "auc": "ROC AUC",
}


def classification_report(
    y_true: Any,
    y_score: Any,
    num_classes: int,
    class_names: Sequence[str] | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    groups: Any = None,
    average: Average | str = Average.AUTO,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Point estimates and percentile bootstrap intervals of every classification metric.

    All metrics are computed on the same resamples (paired), vectorised over resamples. A resample in which a
    metric is undefined (a class absent, so no recall or AUC) is skipped for that metric and counted in
    ``n_skipped``.

    Args:
        y_true: integer labels ``(N,)`` (or ``(N, 1)``, or one-hot ``(N, C)``); numpy or torch.
        y_score: scores ``(N, C)`` (probabilities; prediction = argmax), a binary positive-class score ``(N,)``
            (prediction = ``score >= threshold``), or integer predictions ``(N,)`` (then no AUC).
        num_classes: number of classes C (>= 2).
        class_names: a name per class; default ``"0"``, ``"1"``, ...
        n_boot: bootstrap resamples; 0 gives point estimates only (intervals ``NaN``).
        ci: interval coverage, 0.95 for a 95% interval.
        seed: seed of the resampling: the same inputs and seed give the same report.
        groups: optional group id per case (e.g. patient id): resample groups with all their cases.
        average: how per-class values are summarised (``"auto"``: positive class 1 for two classes, else macro).
        threshold: decision threshold of a binary positive-class score.

    Returns:
        A JSON-serialisable dict: ``num_cases``, ``num_groups``, ``num_classes``, ``class_names``, ``average``,
        ``n_boot``, ``ci``, ``seed``, ``resampled`` (``"cases"`` or ``"groups"``); ``metrics``: for accuracy,
        precision, recall, sensitivity, specificity, f1 and auc a dict ``{"value", "ci": [low, high],
        "n_skipped"}`` (auc ``None`` without scores); ``per_class``: the same per class name plus ``support``;
        ``confusion_matrix``: counts, rows true, columns predicted.

    Raises:
        ValueError: bad shapes, labels out of range, bad ``class_names``, ``n_boot``, ``ci`` or ``groups``.

    Example:
        >>> rep = classification_report([0, 1, 1, 0, 1], [0.1, 0.8, 0.6, 0.3, 0.4], 2, n_boot=200)
        >>> rep["metrics"]["accuracy"]["value"]
        0.8
    """
    y, pred, scores = check_classification_inputs(y_true, y_score, num_classes, threshold)
    _check_bootstrap_args(n_boot, ci)
    avg = _resolve_average(average, num_classes)
    if avg == Average.NONE:
        raise ValueError("average='none' is not a summary; per-class values are always in the report's 'per_class'.")
    names = [str(i) for i in range(num_classes)] if class_names is None else [str(c) for c in class_names]
    if len(names) != num_classes or len(set(names)) != num_classes:
        raise ValueError(f"class_names must be {num_classes} distinct names, got {class_names!r}.")
    n = y.shape[0]
    group_index = _group_index(groups, n)
    point = _metric_batch(y, pred, scores, np.ones((1, n)), num_classes)
    keys = [k for k in ("accuracy", *_PER_CLASS) if k in point]
    boots: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for counts in bootstrap_counts(n, n_boot, seed, groups):
        batch = _metric_batch(y, pred, scores, counts, num_classes)
        for k in keys:
            boots[k].append(batch[k])
    stacked = {k: np.concatenate(v, axis=0) if v else np.empty((0, *point[k].shape[1:])) for k, v in boots.items()}

    def entry(value: float, samples: np.ndarray) -> dict[str, Any]:
        low, high, skipped = percentile_interval(samples, ci) if n_boot else (math.nan, math.nan, 0)
        return {"value": float(value), "ci": [low, high], "n_skipped": skipped}

    metrics: dict[str, Any] = {"accuracy": entry(point["accuracy"][0], stacked["accuracy"])}
    for k in _PER_CLASS:
        if k in point:
            metrics[k] = entry(_summarise(point[k], avg)[0], _summarise(stacked[k], avg))
        else:
            metrics[k] = None
    metrics["sensitivity"] = dict(metrics["recall"])
    per_class: dict[str, Any] = {}
    for c, name in enumerate(names):
        per_class[name] = {"support": int(point["support"][0, c])}
        for k in _PER_CLASS:
            per_class[name][k] = entry(point[k][0, c], stacked[k][:, c]) if k in point else None
    cm = weighted_confusion(y, pred, np.ones((1, n)), num_classes)[0].astype(np.int64)
    return {
        "num_cases": int(n),
        "num_groups": None if group_index is None else int(group_index.max()) + 1,
        "num_classes": int(num_classes),
        "class_names": names,
        "average": str(avg),
        "n_boot": int(n_boot),
        "ci": float(ci),
        "seed": int(seed),
        "resampled": "cases" if group_index is None else "groups",
        "metrics": {k: metrics[k] for k in _SUMMARY},
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
    }


def _fmt(x: float, digits: int) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _fmt_entry(e: dict[str, Any] | None, digits: int, with_ci: bool) -> str:
    if e is None:
        return "n/a"
    text = _fmt(e["value"], digits)
    if with_ci and text != "n/a":
        text += f" [{_fmt(e['ci'][0], digits)}, {_fmt(e['ci'][1], digits)}]"
    return text


def format_report_markdown(report: dict[str, Any], digits: int = 3) -> str:
    """Render a :func:`classification_report` as Markdown: summary, per-class and confusion-matrix tables.

    Intervals are printed as ``[low, high]``; ``n/a`` marks an undefined value.
    """
    with_ci = report["n_boot"] > 0
    pct = f"{round(report['ci'] * 100, 1):g}%"
    unit = "cases" if report["resampled"] == "cases" else f"groups ({report['num_groups']} groups)"
    lines = [
        f"{report['num_cases']} cases, {report['num_classes']} classes, average: {report['average']}; "
        + (
            f"{pct} percentile bootstrap intervals, {report['n_boot']} resamples of {unit}, seed {report['seed']}."
            if with_ci
            else "no bootstrap intervals."
        ),
        "",
        f"| Metric | Value | {pct} CI | Skipped resamples |",
        "|---|---|---|---|",
    ]
    for key in _SUMMARY:
        e = report["metrics"][key]
        if e is None:
            continue
        ci_text = f"[{_fmt(e['ci'][0], digits)}, {_fmt(e['ci'][1], digits)}]" if with_ci else "n/a"
        lines.append(f"| {_TITLES[key]} | {_fmt(e['value'], digits)} | {ci_text} | {e['n_skipped']} |")
    cols = [k for k in _PER_CLASS if next(iter(report["per_class"].values()))[k] is not None]
    lines += [
        "",
        "| Class | Support | " + " | ".join(_TITLES[k] for k in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for name, row in report["per_class"].items():
        cells = " | ".join(_fmt_entry(row[k], digits, with_ci) for k in cols)
        lines.append(f"| {name} | {row['support']} | {cells} |")
    names = report["class_names"]
    lines += ["", "| true \\ predicted | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for name, counts in zip(names, report["confusion_matrix"], strict=True):
        lines.append(f"| {name} | " + " | ".join(str(c) for c in counts) + " |")
    return "\n".join(lines) + "\n"
