"""Classification workflow pieces: class imbalance (loss weights or balanced sampling), the test report at the end
of a training, and k-fold cross-validation of a bundle with a pooled report with confidence intervals.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from monai.bundle import ConfigWorkflow
from monai.data import DistributedWeightedRandomSampler
from monai.utils import IgniteInfo, StrEnum, look_up_option, min_version, optional_import
from torch.utils.data import Sampler, WeightedRandomSampler

from monai_mammo.engines.bundle_data import load_datalist
from monai_mammo.metrics import classification_report, format_report_markdown
from monai_mammo.utils import MammoKeys, atomic_write_text

if TYPE_CHECKING:
    from ignite.engine import Engine
else:
    Engine, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Engine")

__all__ = [
    "Imbalance",
    "class_counts",
    "class_weights",
    "cross_validate",
    "imbalance_loss_weights",
    "imbalance_sampler",
    "report_test_metrics",
]

logger = logging.getLogger(__name__)


class Imbalance(StrEnum):
    """How a training compensates for unequal class sizes."""

    WEIGHTS = "weights"  # weighted cross-entropy, weights inversely proportional to the class sizes
    SAMPLER = "sampler"  # balanced sampling: each class drawn equally often (with replacement)
    NONE = "none"


def class_counts(
    items: Sequence[Mapping[str, Any]], num_classes: int, label_key: str = MammoKeys.LABEL.value
) -> np.ndarray:
    """Number of items per class ``0 .. num_classes - 1``.

    Raises:
        ValueError: a label outside ``[0, num_classes)``.
    """
    labels = np.asarray([int(item[label_key]) for item in items], dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {sorted(set(labels.tolist()))}.")
    return np.bincount(labels, minlength=num_classes)


def class_weights(
    items: Sequence[Mapping[str, Any]], num_classes: int, label_key: str = MammoKeys.LABEL.value
) -> torch.Tensor:
    """Loss weights ``n / (num_classes * n_c)`` (scikit-learn's "balanced"): 1 for every class when balanced.

    A class without items gets weight 0 (it cannot be predicted from this data anyway).
    """
    counts = class_counts(items, num_classes, label_key).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (num_classes * np.maximum(counts, 1)), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32)


def imbalance_loss_weights(
    items: Sequence[Mapping[str, Any]],
    num_classes: int,
    imbalance: Imbalance | str = Imbalance.WEIGHTS,
    label_key: str = MammoKeys.LABEL.value,
    device: str | torch.device | None = None,
) -> torch.Tensor | None:
    """The ``weight`` of ``torch.nn.CrossEntropyLoss``: :func:`class_weights` for ``"weights"``, else ``None``."""
    mode = Imbalance(look_up_option(imbalance, Imbalance))
    if mode != Imbalance.WEIGHTS:
        return None
    weights = class_weights(items, num_classes, label_key)
    logger.info("class weights of the loss: %s", [round(float(w), 3) for w in weights])
    return weights.to(device) if device is not None else weights


def imbalance_sampler(
    items: Sequence[Mapping[str, Any]],
    num_classes: int,
    imbalance: Imbalance | str = Imbalance.WEIGHTS,
    distributed: bool = False,
    label_key: str = MammoKeys.LABEL.value,
    seed: int = 0,
) -> Sampler | None:
    """The training sampler: balanced for ``"sampler"``; under ``distributed`` a per-rank sampler in any case.

    Args:
        items: the training items, in the order of the dataset.
        num_classes: number of classes.
        imbalance: :class:`Imbalance`.
        distributed: one shard per rank (``torch.distributed`` must be initialised): MONAI's
            ``DistributedWeightedRandomSampler`` when balancing, else ``DistributedSampler`` (shuffled).
        label_key: item key of the label.
        seed: seed of the draws of the distributed samplers.

    Returns:
        A sampler for the ``DataLoader`` (then ``shuffle=False``), or ``None``: shuffle as usual.
    """
    mode = Imbalance(look_up_option(imbalance, Imbalance))
    if mode == Imbalance.SAMPLER:
        counts = class_counts(items, num_classes, label_key)
        per_item = [1.0 / counts[int(item[label_key])] for item in items]
        if distributed:
            return DistributedWeightedRandomSampler(
                dataset=items,  # type: ignore[arg-type]  # only its length is used
                weights=per_item,
                num_samples_per_rank=None,
                shuffle=True,
                seed=seed,
            )
        return WeightedRandomSampler(per_item, num_samples=len(items), replacement=True)
    if distributed:
        return torch.utils.data.DistributedSampler(items, shuffle=True, seed=seed)  # type: ignore[arg-type]
    return None


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


def _read_predictions(path: Path) -> list[dict[str, Any]]:
    records = json.loads(path.read_text(encoding="utf-8"))
    return list(records["predictions"] if isinstance(records, dict) else records)


def cross_validate(
    config_file: str | os.PathLike,
    folds: Sequence[int] | int,
    output_dir: str | os.PathLike,
    inference_config: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    meta_file: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """K-fold cross-validation of a classification bundle with a held-out fold that nothing was tuned on, and a
    pooled report of the out-of-fold predictions with bootstrap confidence intervals (resampling women).

    For test fold ``k`` the next fold of the datalist (cyclically) validates, i.e. picks the best epoch, and the
    remaining folds train; fold ``k`` is then predicted once by that model. Selecting the epoch on the fold that is
    reported would tune on the test data, so the two are always different folds (hence at least 3 folds).

    Each test fold writes ``output_dir/fold_k/datalist.json`` (``training``: the other folds' items with their
    folds, ``test``: fold ``k``), runs the bundle's ``training`` on it with ``fold=<validation fold>`` and
    ``run_dir=output_dir/fold_k`` (its test report is fold ``k``'s), then its ``inference`` overlay on the test
    items, which writes ``predictions.json``.

    Args:
        config_file: the bundle's ``train.yaml``.
        folds: the test folds to run (an int ``k``: ``0 .. k-1``); the datalist needs at least 3 folds.
        output_dir: where the folds' runs and the summary go.
        inference_config: the ``inference.yaml`` overlay (default: beside ``config_file``).
        overrides: config overrides for every fold (e.g. ``{"epochs": 5, "datalist": "mias.json"}``); the
            datalist's own ``test`` list, if any, is not used.
        n_boot: bootstrap resamples of the pooled report.
        seed: bootstrap seed.
        meta_file: the bundle's ``metadata.json`` (default: beside ``config_file``).

    Returns:
        A dict with ``folds``, ``pooled`` (the report), ``per_fold`` (per test fold: ``fold``, ``validation_fold``,
        ``seconds`` and the metrics) and ``summary`` (per metric: ``mean`` and ``sd`` over folds), written to
        ``output_dir/cross_validation.json`` and ``.md``; the pooled predictions go to
        ``output_dir/predictions.json``.

    Raises:
        ValueError: a datalist with fewer than 3 folds, or a requested fold it does not have.
    """
    config = Path(config_file)
    infer = Path(inference_config) if inference_config is not None else config.parent / "inference.yaml"
    meta = str(meta_file) if meta_file is not None else str(config.parent / "metadata.json")
    out = Path(output_dir)
    training_items = _datalist_training_items(config, meta, dict(overrides or {}))
    all_folds = sorted({int(item[MammoKeys.FOLD]) for item in training_items})
    fold_ids = list(range(folds)) if isinstance(folds, int) else [int(f) for f in folds]
    if len(all_folds) < 3:
        raise ValueError(
            f"cross_validate needs a datalist with at least 3 folds (train, validation, test), got folds {all_folds}."
        )
    unknown = sorted(set(fold_ids) - set(all_folds))
    if unknown:
        raise ValueError(f"folds {unknown} are not among the datalist's folds {all_folds}.")
    pooled: list[dict[str, Any]] = []
    per_fold: list[dict[str, Any]] = []
    num_classes, class_names = 0, None
    for k in fold_ids:
        val_fold = all_folds[(all_folds.index(k) + 1) % len(all_folds)]
        run_dir = out / f"fold_{k}"
        fold_datalist = run_dir / "datalist.json"
        lists = {
            "training": [item for item in training_items if int(item[MammoKeys.FOLD]) != k],
            "test": [item for item in training_items if int(item[MammoKeys.FOLD]) == k],
        }
        atomic_write_text(fold_datalist, json.dumps(lists, indent=1, default=str))
        common = {
            **dict(overrides or {}),
            "datalist": str(fold_datalist),
            "fold": val_fold,
            "run_dir": str(run_dir),
        }
        logger.info("cross-validation: test fold %d, validation fold %d, run in %s", k, val_fold, run_dir)
        start = time.perf_counter()
        train = ConfigWorkflow(config_file=str(config), meta_file=meta, run_id="training", **common)
        train.initialize()
        train.run()
        train.finalize()
        predict = ConfigWorkflow(
            config_file=[str(config), str(infer)],
            meta_file=meta,
            run_id="inferring",
            workflow_type="infer",
            **{**common, "inference_files": "$@data['test']", "inference_output_dir": str(run_dir / "test")},
        )
        predict.initialize()
        predict.run()
        num_classes = int(predict.parser.get_parsed_content("num_classes"))
        class_names = predict.parser.get_parsed_content("class_names")
        predict.finalize()
        records = _read_predictions(run_dir / "test" / "predictions.json")
        for r in records:
            r["fold"] = k
        pooled += records
        fold_report = _records_report(records, num_classes, class_names, n_boot=0, seed=seed)
        per_fold.append(
            {
                "fold": k,
                "validation_fold": val_fold,
                "seconds": round(time.perf_counter() - start, 1),
                **{m: _value(fold_report, m) for m in fold_report["metrics"]},
            }
        )
    report = _records_report(pooled, num_classes, class_names, n_boot=n_boot, seed=seed)
    summary = {}
    for m in report["metrics"]:
        values = [f[m] for f in per_fold if f[m] is not None and math.isfinite(f[m])]
        summary[m] = {"mean": float(np.mean(values)) if values else math.nan, "sd": float(np.std(values, ddof=1))}
        if len(values) < 2:
            summary[m]["sd"] = math.nan
    result = {"folds": fold_ids, "pooled": report, "per_fold": per_fold, "summary": summary}
    atomic_write_text(out / "predictions.json", json.dumps(pooled, indent=1, default=str))
    atomic_write_text(out / "cross_validation.json", json.dumps(result, indent=2))
    rows = [f"| {m} | {s['mean']:.3f} | {s['sd']:.3f} |" for m, s in summary.items()]
    text = (
        f"# Cross-validation, test folds {fold_ids}\n\n"
        "Each fold is tested by a model trained on the other folds but one, the next fold picking its best epoch.\n\n"
        "## Pooled out-of-fold predictions\n\n"
        + format_report_markdown(report)
        + "\n## Per-fold mean and SD\n\n| Metric | Mean | SD |\n|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )
    atomic_write_text(out / "cross_validation.md", text)
    return result


def _datalist_training_items(config: Path, meta: str, overrides: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``training`` items (absolute paths) of the datalist the bundle would use with ``overrides``; generates
    the synthetic default data first when the bundle would."""
    probe = ConfigWorkflow(config_file=str(config), meta_file=meta, run_id="training", **overrides)
    probe.initialize()
    path = probe.parser.get_parsed_content("data")["datalist"]
    items = load_datalist(path)["training"]
    missing = [i for i, item in enumerate(items) if MammoKeys.FOLD not in item]
    if missing:
        raise ValueError(f"datalist {path!r}: {len(missing)} training items have no 'fold' (e.g. item {missing[0]}).")
    return items


def _value(report: Mapping[str, Any], metric: str) -> float | None:
    entry = report["metrics"][metric]
    return None if entry is None else float(entry["value"])


def _records_report(
    records: Sequence[Mapping[str, Any]], num_classes: int, class_names: Sequence[str] | None, n_boot: int, seed: int
) -> dict[str, Any]:
    if any(r.get("label") is None for r in records):
        raise ValueError("cross-validation needs the labels of the validation items.")
    y = np.asarray([int(r["label"]) for r in records])
    scores = np.asarray([r["probabilities"] for r in records], dtype=np.float64)
    groups = [r.get("patient_id") for r in records]
    use_groups = all(g is not None for g in groups)
    return classification_report(
        y,
        scores if num_classes > 2 else scores[:, 1],
        num_classes,
        class_names=class_names,
        n_boot=n_boot,
        seed=seed,
        groups=groups if use_groups else None,
    )
