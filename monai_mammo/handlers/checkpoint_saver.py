"""Checkpoints written atomically: a checkpoint file is the previous complete one or the new complete one.

MONAI's ``CheckpointSaver`` (1.6) builds ignite's ``DiskSaver`` with ``atomic=False`` (its comment: ignite's
temporary file lost the group/other read permission, which current ignite restores). A run killed while
``torch.save`` writes then leaves a truncated ``.pt`` that cannot be resumed from. ``AtomicCheckpointSaver``
is MONAI's saver with every save handler writing through :func:`monai_mammo.utils.atomic_write` (a temporary
file in the same folder, flushed and fsynced, then renamed over the target).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from monai.handlers import CheckpointSaver
from monai.utils import IgniteInfo, min_version, optional_import

from monai_mammo.utils import atomic_write

if TYPE_CHECKING:
    from ignite.handlers import DiskSaver
else:
    DiskSaver, _ = optional_import("ignite.handlers", IgniteInfo.OPT_IMPORT_VERSION, min_version, "DiskSaver")
idist, _ = optional_import("ignite", IgniteInfo.OPT_IMPORT_VERSION, min_version, "distributed")

__all__ = ["AtomicCheckpointSaver", "AtomicDiskSaver"]


class AtomicDiskSaver(DiskSaver):
    """Ignite ``DiskSaver`` that writes through :func:`~monai_mammo.utils.atomic_write`, optionally always to one
    fixed file name (as MONAI's internal saver does for ``final_filename`` / ``key_metric_filename``).

    Args:
        dirname: folder of the checkpoints (created if needed; may hold other ``.pt`` files).
        filename: fixed file name, or ``None`` to use ignite's names (``checkpoint_epoch=3.pt``).
    """

    def __init__(self, dirname: str | os.PathLike, filename: str | None = None) -> None:
        super().__init__(dirname=str(dirname), require_empty=False, atomic=True, create_dir=True)
        self.filename = filename

    def __call__(self, checkpoint: Mapping, filename: str, metadata: Mapping | None = None) -> None:
        path = self.dirname / (self.filename or filename)
        if idist.get_rank() != self.save_on_rank:
            return
        with atomic_write(path, "wb") as f:
            torch.save(checkpoint, f, **self.kwargs)
        # the temporary file was created 0600; give group and others read access like a plain torch.save
        os.chmod(path, os.stat(path).st_mode | stat.S_IRGRP | stat.S_IROTH)

    def remove(self, filename: str) -> None:
        super().remove(self.filename or filename)


class AtomicCheckpointSaver(CheckpointSaver):
    """MONAI's :class:`monai.handlers.CheckpointSaver` (same arguments, same file names) with atomic writes.

    Example:
        >>> saver = AtomicCheckpointSaver("ckpt", trainer.checkpoint_dict(), save_final=True,
        ...                               save_interval=1, n_saved=2)  # doctest: +SKIP
        >>> saver.attach(trainer)  # doctest: +SKIP
    """

    def __init__(self, save_dir: str, save_dict: dict, **kwargs: Any) -> None:
        super().__init__(save_dir, save_dict, **kwargs)
        fixed = {
            "_final_checkpoint": kwargs.get("final_filename"),
            "_key_metric_checkpoint": kwargs.get("key_metric_filename"),
            "_interval_checkpoint": None,
        }
        for attr, filename in fixed.items():
            checkpoint = getattr(self, attr)
            if checkpoint is not None:
                checkpoint.save_handler = AtomicDiskSaver(self.save_dir, filename)
