"""Tests of monai_mammo.handlers.resume: finding the newest checkpoint and resuming an engine from it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ignite.engine import Engine, Events
from monai.handlers import CheckpointSaver

from monai_mammo.handlers import KeyMetricState, ResumeFromCheckpoint, latest_checkpoint


def test_latest_checkpoint_takes_the_largest_epoch(tmp_path: Path) -> None:
    for name in ("checkpoint_epoch=2.pt", "checkpoint_epoch=10.pt", ".checkpoint_epoch=11.pt.abc.tmp", "model.pt"):
        (tmp_path / name).write_bytes(b"")
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint_epoch=10.pt"
    assert latest_checkpoint(tmp_path, prefix="run") is None
    assert latest_checkpoint(tmp_path / "missing") is None


def _engine(net: torch.nn.Module, epochs: int, log: list[int]) -> Engine:
    def step(engine: Engine, batch: int) -> None:
        with torch.no_grad():
            net.weight.add_(1.0)

    engine = Engine(step)
    engine.add_event_handler(Events.EPOCH_COMPLETED, lambda e: log.append(e.state.epoch))
    return engine


def _run(ckpt: Path, epochs: int, stop_after: int | None = None) -> tuple[list[int], torch.nn.Module]:
    net = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(net.weight)
    log: list[int] = []
    engine = _engine(net, epochs, log)
    ResumeFromCheckpoint(ckpt, {"trainer": engine, "net": net}).attach(engine)
    CheckpointSaver(str(ckpt), {"trainer": engine, "net": net}, save_interval=1, n_saved=1).attach(engine)
    if stop_after is not None:
        engine.add_event_handler(Events.EPOCH_COMPLETED(once=stop_after), lambda e: e.terminate())
    engine.run(range(2), max_epochs=epochs)
    return log, net


def test_stopped_run_resumes_to_the_same_total(tmp_path: Path) -> None:
    first, _ = _run(tmp_path, epochs=4, stop_after=1)
    assert first == [1]
    second, net = _run(tmp_path, epochs=4)
    assert second == [2, 3, 4]
    assert net.weight.item() == 8.0  # 4 epochs of 2 iterations, as in one run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_epoch=4.pt"]  # the stale one removed


def test_finished_run_trains_no_more(tmp_path: Path) -> None:
    _run(tmp_path, epochs=2)
    again, net = _run(tmp_path, epochs=2)
    assert again == [] and net.weight.item() == 4.0


def test_disabled_resume_starts_over(tmp_path: Path) -> None:
    _run(tmp_path, epochs=2)
    net = torch.nn.Linear(1, 1, bias=False)
    log: list[int] = []
    engine = _engine(net, 2, log)
    ResumeFromCheckpoint(tmp_path, {"trainer": engine, "net": net}, enabled=False).attach(engine)
    engine.run(range(2), max_epochs=2)
    assert log == [1, 2]


def test_incompatible_checkpoint_fails_with_advice(tmp_path: Path) -> None:
    _run(tmp_path, epochs=1)
    other = torch.nn.Linear(3, 3)
    engine = Engine(lambda e, b: None)
    ResumeFromCheckpoint(tmp_path, {"trainer": engine, "net": other}).attach(engine)
    with pytest.raises(RuntimeError, match=r"(?s)cannot resume from .*--resume false"):
        engine.run(range(1), max_epochs=1)


def test_key_metric_state_round_trip(tmp_path: Path) -> None:
    net = torch.nn.Linear(1, 1)
    saver = CheckpointSaver(str(tmp_path), {"model": net}, save_key_metric=True, key_metric_name="auc")
    evaluator = Engine(lambda e, b: None)
    evaluator.state.metrics = {"auc": 0.7}
    evaluator.state.best_metric, evaluator.state.best_metric_epoch = 0.7, 3
    saver._key_metric_checkpoint(evaluator)  # what the saver does at the end of a validation
    state = KeyMetricState(saver, evaluator).state_dict()
    assert state["best_metric"] == 0.7 and state["saved"][0][0] == pytest.approx(0.7)

    fresh_saver = CheckpointSaver(str(tmp_path), {"model": net}, save_key_metric=True, key_metric_name="auc")
    fresh_eval = Engine(lambda e, b: None)
    KeyMetricState(fresh_saver, fresh_eval).load_state_dict(state)
    assert fresh_eval.state.best_metric_epoch == 3
    fresh_eval.state.metrics = {"auc": 0.6}  # worse than before the stop: the best model stays
    fresh_saver._key_metric_checkpoint(fresh_eval)
    assert [round(p, 3) for p, _ in fresh_saver._key_metric_checkpoint._saved] == [0.7]


def test_key_metric_state_needs_a_key_metric_saver(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="save_key_metric=True"):
        KeyMetricState(CheckpointSaver(str(tmp_path), {"model": torch.nn.Linear(1, 1)}, save_final=True))


def test_finished_run_keeps_only_the_named_states(tmp_path: Path) -> None:
    def run(epochs: int) -> tuple[ResumeFromCheckpoint, torch.nn.Module, list[int]]:
        net = torch.nn.Linear(1, 1, bias=False)
        torch.nn.init.zeros_(net.weight)
        log: list[int] = []
        engine = _engine(net, epochs, log)
        resume = ResumeFromCheckpoint(tmp_path, {"trainer": engine, "net": net}, keep_when_finished=["trainer"])
        resume.attach(engine)
        CheckpointSaver(str(tmp_path), {"trainer": engine, "net": net}, save_interval=1, n_saved=1).attach(engine)
        engine.run(range(2), max_epochs=epochs)
        return resume, net, log

    first, _, _ = run(2)
    assert not first.finished
    assert set(torch.load(tmp_path / "checkpoint_epoch=2.pt", weights_only=True)) == {"trainer", "finished"}
    again, net, log = run(2)  # a finished run: nothing trained, the network not touched
    assert again.finished and log == [] and net.weight.item() == 0.0
    with pytest.raises(ValueError, match="finished its 2 epochs and kept only its best model"):
        run(3)
    with pytest.raises(ValueError, match="keep_when_finished names"):
        ResumeFromCheckpoint(tmp_path, {"net": torch.nn.Linear(1, 1)}, keep_when_finished=["trainer"])
