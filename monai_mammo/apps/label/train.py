"""MONAI Label train task: the classification bundle's own training on the datastore's labelled images.

MONAI Label runs a train task in a child process (``POST /train/<model>``) and shows its last output lines in
``GET /train/``; this task runs the bundle's ``training`` (``monai.bundle.run``, as ``python -m monai.bundle run
training`` does) on a datalist written from the datastore, its output being the task's (epochs, losses,
validation), then puts the best model in place of the served one atomically: the infer task sees the new
file and loads it at its next request, without a restart.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monai.bundle import run as bundle_run
from monai.utils import optional_import

from monai_mammo.apps.label.bundle import MammoBundle
from monai_mammo.apps.label.datastore import class_index, read_class_label
from monai_mammo.apps.label.infer import resolve_image_path

if TYPE_CHECKING:
    from monailabel.interfaces.tasks.train import TrainTask
else:
    TrainTask, _ = optional_import("monailabel.interfaces.tasks.train", name="TrainTask", as_type="base")

__all__ = ["BundleClassificationTrainTask", "labelled_items"]

logger = logging.getLogger(__name__)
MIN_HELD_OUT = 10  # fewer labelled images than this: validate on the training images (no held-out split)


def labelled_items(datalist: Sequence[Mapping[str, Any]], class_names: Sequence[str]) -> list[dict[str, Any]]:
    """``[{"image": file, "label": index}]`` from a datastore's datalist of images and JSON label files."""
    items = []
    for entry in datalist:
        image = resolve_image_path(str(entry["image"]))
        items.append({"image": str(image), "label": class_index(read_class_label(entry["label"]), class_names)})
    return items


class BundleClassificationTrainTask(TrainTask):
    """Train a classification bundle on the datastore's labelled images.

    Args:
        bundle: the bundle (its ``train`` config and overrides; its ``model_path`` is the served model).
        class_names: the classes, in label order.
        work_dir: where each run's datalist, checkpoints and logs go (``<work_dir>/run_<time>``).
        max_epochs: default epochs (request ``max_epochs`` overrides).
        val_split: default fraction of labelled images held out for validation (request ``val_split``).
    """

    def __init__(
        self,
        bundle: MammoBundle,
        class_names: Sequence[str],
        work_dir: str | os.PathLike,
        max_epochs: int = 1,
        val_split: float = 0.2,
    ) -> None:
        super().__init__(f"Train {bundle.name} (the bundle's training) on the labelled images of the datastore")
        self.bundle = bundle
        self.class_names = [str(n) for n in class_names]
        self.work_dir = Path(work_dir)
        self.max_epochs = int(max_epochs)
        self.val_split = float(val_split)

    def config(self) -> dict[str, Any]:
        return {"max_epochs": self.max_epochs, "val_split": self.val_split, "seed": 0}

    def stats(self) -> dict[str, Any]:
        path = self.work_dir / "train_stats.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def __call__(self, request: dict[str, Any], datastore: Any) -> dict[str, Any]:
        start = time.time()
        items = labelled_items(datastore.datalist(), self.class_names)
        if len(items) < 2:
            raise ValueError(
                f"{len(items)} labelled image(s); label at least 2 with PUT /datastore/label?image=ID "
                '(a JSON file {"label": "benign"}) before training.'
            )
        seed = int(request.get("seed", 0))
        epochs = int(request.get("max_epochs", self.max_epochs))
        val_split = float(request.get("val_split", self.val_split))
        order = sorted(items, key=lambda item: item["image"])
        random.Random(seed).shuffle(order)
        n_val = max(1, round(val_split * len(order))) if len(order) >= MIN_HELD_OUT else 0
        train, val = (order[n_val:], order[:n_val]) if n_val else (order, order)
        run_dir = self.work_dir / f"run_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
        run_dir.mkdir(parents=True, exist_ok=True)
        datalist = run_dir / "datalist.json"
        datalist.write_text(json.dumps({"training": train, "validation": val}, indent=1))
        print(f"training {self.bundle.name}: {len(train)} images, {len(val)} validation, {epochs} epoch(s)", flush=True)

        overrides = {**self.bundle.overrides, "datalist": str(datalist), "run_dir": str(run_dir), "epochs": epochs}
        overrides.update({"resume": False, "seed": seed, "bundle_root": str(self.bundle.root)})
        # in this process (MONAI Label's train child process): its output is the task's details
        bundle_run(run_id="training", config_file=[str(f) for f in self.bundle.config_files], **overrides)

        best = run_dir / "models" / "model.pt"
        if not best.is_file():
            raise RuntimeError(f"the bundle's training wrote no {best}.")
        target = self.bundle.model_path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(best, partial)
        os.replace(partial, target)  # atomic: the infer task never reads half a file
        version = self.bundle.model_version()
        stats = {
            "total_time": f"{time.time() - start:.1f}s",
            "epochs": epochs,
            "train_images": len(train),
            "val_images": len(val),
            "run_dir": str(run_dir),
            "model": version.as_dict(),
        }
        (self.work_dir / "train_stats.json").write_text(json.dumps(stats, indent=1))
        print(f"served model {target} now version {version.version}", flush=True)
        return stats
