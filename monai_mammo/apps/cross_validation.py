"""K-fold cross-validation of a classification bundle, the epoch never chosen on the reported fold."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.bundle import ConfigWorkflow

from monai_mammo.data.datalist import read_datalist, require_keys
from monai_mammo.metrics import classification_report, format_report_markdown
from monai_mammo.utils import MammoKeys, atomic_write_text

__all__ = ["cross_validate"]


logger = logging.getLogger(__name__)


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
    pretrain_config: str | os.PathLike | None = None,
    pretrain_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """K-fold cross-validation of a classification bundle with a held-out fold that nothing was tuned on, and a
    pooled report of the out-of-fold predictions with bootstrap confidence intervals (resampling women).

    For test fold ``k`` the next fold of the datalist (cyclically) validates, i.e. picks the best epoch, and the
    remaining folds train; fold ``k`` is then predicted once by that model. Selecting the epoch on the fold that is
    reported would tune on the test data, so the two are always different folds (hence at least 3 folds).

    Each test fold writes ``output_dir/fold_k/datalist.json`` (``training``: the other folds' items with their
    folds, ``test``: fold ``k``), runs the bundle's ``training`` on it with ``fold=<validation fold>`` and
    ``run_dir=output_dir/fold_k`` (its test report is fold ``k``'s), then its ``inference`` overlay on the test
    items, which writes ``predictions.json``. With ``pretrain_config`` (an overlay such as the classifier bundle's
    ``pretrain_patches.yaml``) each fold first runs that overlay's ``pretraining`` on the same training and
    validation folds, and its training starts from the weights it writes (its ``patch_weights_path``, passed as
    ``pretrained_weights``): the test fold is never seen by either stage.

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
        pretrain_config: an overlay on ``config_file`` with a ``pretraining`` run id and a ``patch_weights_path``.
        pretrain_overrides: overrides of the pretraining stage only (on top of ``overrides``).

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
        if pretrain_config is not None:
            pretrain = ConfigWorkflow(
                config_file=[str(config), str(pretrain_config)],
                meta_file=meta,
                run_id="pretraining",
                **{**common, **dict(pretrain_overrides or {})},
            )
            pretrain.initialize()
            pretrain.run()
            common["pretrained_weights"] = str(pretrain.parser.get_parsed_content("patch_weights_path"))
            pretrain.finalize()
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
    items = [dict(item) for item in read_datalist(path, required=("training",))["training"]]
    require_keys(items, [MammoKeys.FOLD.value], f"datalist {path!r}", "training")
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
