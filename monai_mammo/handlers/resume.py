"""Resume a training after a stop: find the newest interval checkpoint of a run and load it when the run starts.

MONAI's :class:`~monai.handlers.CheckpointLoader` needs the checkpoint's path when the config is written; a bundle
that resumes "whatever the last run left" must look for it when the trainer starts. :class:`ResumeFromCheckpoint`
does that (and does nothing on a fresh run). :class:`KeyMetricState` adds the best-model bookkeeping to the
resume checkpoint, so that a resumed run keeps the best model of the epochs before the stop instead of
overwriting ``model.pt`` with the first epoch after it. With :class:`~monai_mammo.handlers.RandomStates` in the
checkpoint too, a resumed run ends with the weights of one that ran straight through.

A finished run needs its checkpoint only to know that it is finished (and, for a later phase, the random states
where it ended): ``keep_when_finished`` rewrites the last checkpoint with just those entries when the trainer
completes, dropping the network and optimiser copies that the best model file already holds.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from monai.handlers import CheckpointLoader, CheckpointSaver
from monai.utils import IgniteInfo, min_version, optional_import

from monai_mammo.utils import atomic_write

if TYPE_CHECKING:
    from ignite.engine import Engine, Events
else:
    Engine, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Engine")
    Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")
idist, _ = optional_import("ignite", IgniteInfo.OPT_IMPORT_VERSION, min_version, "distributed")

__all__ = ["KeyMetricState", "ResumeFromCheckpoint", "latest_checkpoint"]

logger = logging.getLogger(__name__)

FINISHED_KEY = "finished"  # marks a checkpoint rewritten by keep_when_finished (its value: the last epoch)
_STEP = re.compile(r"_(?:epoch|iteration)=(\d+)\.pt$")


def latest_checkpoint(ckpt_dir: str | os.PathLike, prefix: str = "") -> Path | None:
    """The newest interval checkpoint that MONAI's ``CheckpointSaver`` left in ``ckpt_dir``.

    Interval checkpoints are named ``{prefix}_checkpoint_epoch=N.pt`` (``checkpoint_epoch=N.pt`` without a
    prefix; ``iteration=N`` when saved per iteration); the largest ``N`` wins. Temporary files of an interrupted
    atomic write (``.name.tmp``) are ignored.

    Returns:
        The path, or ``None`` when the folder does not exist or holds no such file.
    """
    folder = Path(ckpt_dir)
    if not folder.is_dir():
        return None
    start = f"{prefix}_checkpoint_" if prefix else "checkpoint_"
    best: tuple[int, Path] | None = None
    for path in folder.iterdir():
        match = _STEP.search(path.name)
        if match and path.name.startswith(start) and (best is None or int(match.group(1)) > best[0]):
            best = (int(match.group(1)), path)
    return None if best is None else best[1]


class ResumeFromCheckpoint:
    """Ignite handler: when the trainer starts, load the newest checkpoint of ``ckpt_dir`` if there is one.

    The engine's own state (epoch, iteration) is restored with the objects, so the run goes on from the epoch
    after the checkpoint and stops at the trainer's ``max_epochs`` (MONAI's ``CheckpointLoader`` keeps the
    current ``max_epochs``). A fresh run (no checkpoint) is logged and left alone.

    Args:
        ckpt_dir: folder of the interval checkpoints (``AtomicCheckpointSaver(save_interval=...)``).
        load_dict: the objects to restore, the same keys as the saver's ``save_dict`` (e.g. ``trainer``,
            ``network``, ``optimizer``, ``lr_scheduler``).
        prefix: ``file_prefix`` of the saver.
        map_location: as in ``torch.load`` (e.g. the device).
        enabled: ``False`` turns resuming off (a fresh run even when checkpoints exist).
        keep_when_finished: when the trainer completes its ``max_epochs``, rewrite its last checkpoint with only
            these entries of ``load_dict`` (e.g. ``["trainer", "rng", "best"]``); ``None`` keeps it whole. Resuming
            a finished run then restores just those (:attr:`finished` is ``True``); asking it for more epochs is
            refused (there is no optimiser state to go on with).

    Example:
        >>> state = {"trainer": trainer, "network": net, "optimizer": opt}
        >>> ResumeFromCheckpoint("models", state).attach(trainer)  # doctest: +SKIP
    """

    def __init__(
        self,
        ckpt_dir: str | os.PathLike,
        load_dict: Mapping[str, Any],
        prefix: str = "",
        map_location: Any = None,
        enabled: bool = True,
        keep_when_finished: Sequence[str] | None = None,
    ) -> None:
        if not load_dict:
            raise ValueError("load_dict must name at least one object to restore.")
        self.ckpt_dir = Path(ckpt_dir)
        self.load_dict = dict(load_dict)
        self.prefix = prefix
        self.map_location = map_location
        self.enabled = bool(enabled)
        self.keep_when_finished = None if keep_when_finished is None else [str(k) for k in keep_when_finished]
        unknown = sorted(set(self.keep_when_finished or ()) - set(self.load_dict))
        if unknown:
            raise ValueError(f"keep_when_finished names {unknown}, which load_dict {sorted(self.load_dict)} lacks.")
        self.resumed_from: Path | None = None
        self.finished = False  # the checkpoint resumed from was of a finished run (rewritten by keep_when_finished)

    def attach(self, engine: Engine) -> None:
        """Run :meth:`__call__` when ``engine`` starts (and slim the last checkpoint when it completes)."""
        engine.add_event_handler(Events.STARTED, self)
        if self.keep_when_finished is not None:
            engine.add_event_handler(Events.COMPLETED, self.slim_finished)

    def slim_finished(self, engine: Engine) -> None:
        """Rewrite the newest checkpoint with only the ``keep_when_finished`` entries, once the run is complete."""
        path = latest_checkpoint(self.ckpt_dir, self.prefix)
        if self.keep_when_finished is None or path is None or self.finished:
            return  # nothing to slim, or the run resumed from an already slim checkpoint
        if engine.state.max_epochs is None or engine.state.epoch < engine.state.max_epochs:
            return  # terminated early: keep everything for a resume
        if idist.get_rank() == 0:
            state: dict[str, Any] = {k: self.load_dict[k].state_dict() for k in self.keep_when_finished}
            state[FINISHED_KEY] = int(engine.state.epoch)
            with atomic_write(path, "wb") as f:
                torch.save(state, f)
            logger.info("finished: %s keeps only %s.", path, ", ".join(self.keep_when_finished))

    def __call__(self, engine: Engine) -> None:
        if not self.enabled:
            return
        path = latest_checkpoint(self.ckpt_dir, self.prefix)
        if path is None:
            logger.info("resume: no checkpoint in %s, training from the start.", self.ckpt_dir)
            return
        load_dict = self.load_dict
        finished = torch.load(path, map_location="cpu", weights_only=True, mmap=True).get(FINISHED_KEY)
        if finished is not None:
            load_dict = {k: v for k, v in self.load_dict.items() if k in (self.keep_when_finished or ())}
        try:
            CheckpointLoader(str(path), load_dict, map_location=self.map_location)(engine)
        except (RuntimeError, KeyError, ValueError) as e:
            raise RuntimeError(
                f"cannot resume from {path}: {e}\nIt was written by a run with other settings; delete {self.ckpt_dir} "
                "or use another run folder, or start over with resuming disabled (bundles: --resume false)."
            ) from e
        self.resumed_from = path
        if finished is not None and engine.state.max_epochs is not None and finished < engine.state.max_epochs:
            raise ValueError(
                f"the run in {self.ckpt_dir} finished its {finished} epochs and kept only its best model, not the "
                f"state to train on to {engine.state.max_epochs}: start over with resuming disabled "
                "(bundles: --resume false) or use another run folder."
            )
        self.finished = finished is not None
        if engine.state.max_epochs is not None and engine.state.epoch >= engine.state.max_epochs:
            logger.info(
                "resume: the run in %s already finished its %d epochs (%s); nothing left to train "
                "(disable resuming to train again).",
                self.ckpt_dir,
                engine.state.epoch,
                path,
            )
            return
        logger.info(
            "resume: restored %s; going on from epoch %d of %s.", path, engine.state.epoch, engine.state.max_epochs
        )
        engine.add_event_handler(Events.EPOCH_COMPLETED, self._remove_stale)

    def _remove_stale(self, engine: Engine) -> None:
        """Once a newer checkpoint exists, delete the one resumed from (the saver of the new run does not know it)."""
        stale = self.resumed_from
        if stale is not None and latest_checkpoint(self.ckpt_dir, self.prefix) not in (None, stale):
            if idist.get_rank() == 0 and stale.exists():
                stale.unlink()
            engine.remove_event_handler(self._remove_stale, Events.EPOCH_COMPLETED)


class KeyMetricState:
    """The best-model bookkeeping of a validation, as an object with ``state_dict`` / ``load_state_dict``.

    Put it in the resume checkpoint's ``save_dict`` (and :class:`ResumeFromCheckpoint`'s ``load_dict``) so that
    a resumed run knows the best validation score so far: the saver does not replace the best model with a
    worse one, and the evaluator's ``best_metric`` / ``best_metric_epoch`` go on from their values.

    Args:
        saver: the ``CheckpointSaver`` (or ``AtomicCheckpointSaver``) with ``save_key_metric=True`` attached to
            the validation engine.
        evaluator: that validation engine (a MONAI ``Evaluator``), or ``None``.
    """

    def __init__(self, saver: CheckpointSaver, evaluator: Engine | None = None) -> None:
        # MONAI keeps the key-metric ignite Checkpoint private; its state (the saved scores) is what must persist.
        checkpoint = getattr(saver, "_key_metric_checkpoint", None)
        if checkpoint is None:
            raise ValueError("saver must be a CheckpointSaver with save_key_metric=True.")
        self.checkpoint = checkpoint
        self.evaluator = evaluator

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"saved": [[float(p), str(f)] for p, f in self.checkpoint.state_dict()["_saved"]]}
        if self.evaluator is not None:
            state["best_metric"] = float(getattr(self.evaluator.state, "best_metric", -1.0))
            state["best_metric_epoch"] = int(getattr(self.evaluator.state, "best_metric_epoch", -1))
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.checkpoint.load_state_dict({"_saved": [tuple(item) for item in state.get("saved", [])]})
        if self.evaluator is not None and "best_metric" in state:
            self.evaluator.state.best_metric = state["best_metric"]  # type: ignore[attr-defined]
            self.evaluator.state.best_metric_epoch = state["best_metric_epoch"]  # type: ignore[attr-defined]
