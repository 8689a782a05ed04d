"""Tests of monai_mammo.handlers.checkpoint_saver: atomic checkpoint files."""

from __future__ import annotations

import pytest
import torch

from monai_mammo.handlers import AtomicCheckpointSaver, AtomicDiskSaver


def test_every_save_handler_is_atomic(tmp_path):
    saver = AtomicCheckpointSaver(
        str(tmp_path), {"net": torch.nn.Linear(1, 1)}, save_final=True, final_filename="final.pt", save_interval=1
    )
    assert isinstance(saver._final_checkpoint.save_handler, AtomicDiskSaver)
    assert saver._final_checkpoint.save_handler.filename == "final.pt"
    assert isinstance(saver._interval_checkpoint.save_handler, AtomicDiskSaver)


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    saver = AtomicDiskSaver(tmp_path, filename="final.pt")
    saver({"a": torch.ones(3)}, "ignored.pt")
    assert torch.load(tmp_path / "final.pt")["a"].sum() == 3

    def broken_save(obj, f, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        saver({"a": torch.zeros(3)}, "ignored.pt")
    monkeypatch.undo()
    assert torch.load(tmp_path / "final.pt")["a"].sum() == 3  # the old checkpoint, intact
    assert [p.name for p in tmp_path.iterdir()] == ["final.pt"]  # no temporary file left


def test_saved_file_is_readable_by_group_and_others(tmp_path):
    AtomicDiskSaver(tmp_path)({"a": 1}, "ck.pt")
    assert (tmp_path / "ck.pt").stat().st_mode & 0o044 == 0o044
