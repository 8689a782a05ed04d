"""Per-image predictions of a classifier written as CSV and JSON, atomically, by an Ignite handler.

MONAI's ``ClassificationSaver`` writes one CSV row of scores per image, appending as it goes (a stopped run leaves a
partial file) and without the labels, class names or patient ids. :class:`PredictionWriter` collects every image's
prediction during the run (gathered from all ranks under ``torch.distributed``) and writes both files once, at the
end, through :func:`monai_mammo.utils.atomic_write_text`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from monai.data import MetaTensor
from monai.utils import IgniteInfo, min_version, optional_import

from monai_mammo.utils import MammoKeys, atomic_write_text

if TYPE_CHECKING:
    from ignite.engine import Engine, Events
else:
    Engine, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Engine")
    Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")
idist, _ = optional_import("ignite", IgniteInfo.OPT_IMPORT_VERSION, min_version, "distributed")

__all__ = ["PredictionWriter", "prediction_records"]

logger = logging.getLogger(__name__)


def _scalar(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _filename(item: Mapping[str, Any], image_key: str) -> str | None:
    image = item.get(image_key)
    if isinstance(image, MetaTensor):
        name = image.meta.get(MammoKeys.FILENAME.value)
        if name is not None:
            return str(name)
    if isinstance(image, (str, os.PathLike)):
        return os.fspath(image)
    meta = item.get(f"{image_key}_meta_dict")
    return None if not isinstance(meta, Mapping) else meta.get(MammoKeys.FILENAME.value)


def prediction_records(
    outputs: Sequence[Mapping[str, Any]],
    batch: Sequence[Mapping[str, Any]] | None,
    class_names: Sequence[str],
    pred_key: str = "pred",
    label_key: str = MammoKeys.LABEL.value,
    image_key: str = MammoKeys.IMAGE.value,
    extra_keys: Sequence[str] = (MammoKeys.PATIENT_ID.value,),
) -> list[dict[str, Any]]:
    """One record per image from the decollated engine output (and batch, for ids the output lacks).

    ``pred`` holds the class probabilities ``(C,)`` (after ``Activations(softmax=True)``). A record is
    ``{"image", <extra_keys>, "label", "pred", "pred_name", "probabilities"}``; ``label`` is ``None`` when the
    item has none.
    """
    records = []
    for i, out in enumerate(outputs):
        src = batch[i] if batch is not None and i < len(batch) else {}
        probs = torch.as_tensor(out[pred_key]).detach().float().cpu().reshape(-1)
        if probs.numel() != len(class_names):
            raise ValueError(f"{pred_key!r} has {probs.numel()} scores but there are {len(class_names)} class names.")
        pred = int(torch.argmax(probs))
        label = out.get(label_key, src.get(label_key))
        record: dict[str, Any] = {"image": _filename(out, image_key) or _filename(src, image_key)}
        for key in extra_keys:
            record[key] = _scalar(src.get(key, out.get(key)))
        record["label"] = None if label is None else int(_scalar(label))
        record["pred"] = pred
        record["pred_name"] = str(class_names[pred])
        record["probabilities"] = [float(p) for p in probs]
        records.append(record)
    return records


class PredictionWriter:
    """Ignite handler writing each image's predicted class and probabilities to ``predictions.csv`` / ``.json``.

    Attach it to a MONAI ``SupervisedEvaluator`` (``decollate=True``, the default) whose postprocessing turns
    ``pred`` into probabilities. Both files are written when the run completes, atomically, by rank 0 after
    gathering every rank's records.

    Args:
        output_dir: folder of the files.
        class_names: a name per class, in label order.
        filename: base name of the files (``.csv`` and ``.json`` are added).
        pred_key: key of the probabilities in the engine output.
        label_key: key of the label (written when present).
        image_key: key of the image (its ``filename_or_obj`` names the record).
        extra_keys: batch keys copied to each record (e.g. ``patient_id``).

    Example:
        >>> PredictionWriter("eval", ["normal", "benign", "malignant"]).attach(evaluator)  # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir: str | os.PathLike,
        class_names: Sequence[str],
        filename: str = "predictions",
        pred_key: str = "pred",
        label_key: str = MammoKeys.LABEL.value,
        image_key: str = MammoKeys.IMAGE.value,
        extra_keys: Sequence[str] = (MammoKeys.PATIENT_ID.value,),
    ) -> None:
        if not class_names:
            raise ValueError("class_names must name every class.")
        self.output_dir = Path(output_dir)
        self.class_names = [str(c) for c in class_names]
        self.filename = filename
        self.pred_key = pred_key
        self.label_key = label_key
        self.image_key = image_key
        self.extra_keys = tuple(extra_keys)
        self.records: list[dict[str, Any]] = []

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.STARTED, self.reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.collect)
        engine.add_event_handler(Events.COMPLETED, self.write)

    def reset(self, engine: Engine | None = None) -> None:
        self.records = []

    def collect(self, engine: Engine) -> None:
        outputs = engine.state.output
        batch = engine.state.batch
        if isinstance(outputs, Mapping):  # not decollated
            raise ValueError("PredictionWriter needs the decollated output: use the evaluator with decollate=True.")
        self.records += prediction_records(
            outputs,  # type: ignore[arg-type]
            batch if isinstance(batch, list) else None,
            self.class_names,
            self.pred_key,
            self.label_key,
            self.image_key,
            self.extra_keys,
        )

    @property
    def paths(self) -> tuple[Path, Path]:
        """The CSV and JSON files."""
        return self.output_dir / f"{self.filename}.csv", self.output_dir / f"{self.filename}.json"

    def write(self, engine: Engine | None = None) -> None:
        records = self.records
        if idist.get_world_size() > 1:
            gathered = idist.all_gather(json.dumps(records))
            records = [r for part in gathered for r in json.loads(part)]
            unique: dict[Any, dict[str, Any]] = {}  # a DistributedSampler pads with repeated items
            for i, r in enumerate(records):
                unique.setdefault(r["image"] if r["image"] is not None else i, r)
            records = list(unique.values())
        if idist.get_rank() != 0:
            return
        csv_path, json_path = self.paths
        content = {"class_names": self.class_names, "predictions": records}
        atomic_write_text(json_path, json.dumps(content, indent=2))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        extras = list(self.extra_keys)
        writer.writerow(["image", *extras, "label", "pred", "pred_name", *[f"prob_{c}" for c in self.class_names]])
        for r in records:
            label = "" if r["label"] is None else r["label"]
            writer.writerow(
                [r["image"], *[r.get(k, "") for k in extras], label, r["pred"], r["pred_name"], *r["probabilities"]]
            )
        atomic_write_text(csv_path, buffer.getvalue())
        logger.info("predictions of %d images written to %s and %s", len(records), csv_path, json_path)
