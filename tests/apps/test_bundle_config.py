"""Tests of monai_mammo.apps.bundle_config: unknown overrides refused, one-line error causes, the bundle root."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import pytest
from monai.bundle import ConfigParser, ConfigWorkflow

from monai_mammo.apps.bundle_config import (
    ConfigOverrideError,
    check_overrides,
    format_error,
    install_error_report,
    user_error,
    wait_for_pool_threads,
)
from monai_mammo.data import DatalistError

CONFIG = """
imports: ["$import monai_mammo", "$import monai_mammo.apps"]
epochs: 2
use_sr: true
amp: "$1 > 2"
synthetic: {num_images: 10, seed: 0}
options: {}
train:
  dataloader: {_target_: DataLoader, num_workers: 0}
value: "$@epochs + 1 if @use_sr else -1"
run: ["$@value"]
initialize: ["$monai_mammo.apps.bundle_config.setup_bundle_run()"]
"""
OVERLAY = """
extra: 1
train#dataloader#batch_size: 4
"""


@pytest.fixture
def configs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "bundle" / "configs"
    folder.mkdir(parents=True)
    (folder / "train.yaml").write_text(CONFIG)
    (folder / "overlay.yaml").write_text(OVERLAY)
    return folder / "train.yaml", folder / "overlay.yaml"


def _config(files: list[Path], **overrides: object) -> dict:
    parser = ConfigParser()
    parser.read_config([str(f) for f in files])
    parser.update(overrides)
    return parser.get()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epoch": 1}, r"--epoch \(did you mean --epochs\?\)"),
        ({"train#dataloader#num_workerz": 2}, r"--train#dataloader#num_workerz \(did you mean --train#dataloader#num_"),
        ({"synthetic": {"num_imagez": 3}}, r"--synthetic#num_imagez \(did you mean --synthetic#num_images"),
        ({"zzz": 1, "epoch": 1}, r"unknown overrides --zzz; --epoch"),
    ],
)  # fmt: skip
def test_unknown_keys_are_refused_with_the_nearest(configs: tuple[Path, Path], overrides: dict, message: str) -> None:
    train, _ = configs
    with pytest.raises(ConfigOverrideError, match=message):
        check_overrides(_config([train], **overrides), [train])


@pytest.mark.parametrize(
    "overrides",
    [
        {"epochs": 5, "train#dataloader#num_workers": 2},
        {"options": {"anything": 1}},  # an empty dict takes any key
        {"synthetic": {"num_images": 3}},
        {"bundle_root": "/x", "config_file": "a", "meta_file": "b", "logging_file": "c"},  # MONAI's own keys
    ],
)
def test_defined_paths_and_monai_keys_are_accepted(configs: tuple[Path, Path], overrides: dict) -> None:
    train, _ = configs
    check_overrides(_config([train], **overrides), [train])


def test_an_overlay_defines_keys_and_nested_paths(configs: tuple[Path, Path]) -> None:
    train, overlay = configs
    check_overrides(_config([train, overlay], extra=2), [train, overlay])
    with pytest.raises(ConfigOverrideError, match="--extra"):
        check_overrides(_config([train], extra=2), [train])


def test_config_workflow_refuses_an_unknown_override(configs: tuple[Path, Path]) -> None:
    """ConfigWorkflow used directly (as cross-validation does): the check compares with the folder's configs."""
    train, _ = configs
    workflow = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, epoch=3)
    with pytest.raises(RuntimeError) as info:
        workflow.initialize()
    assert isinstance(info.value.__cause__, ConfigOverrideError)
    assert user_error(info.value) == (
        "ConfigOverrideError: unknown override --epoch (did you mean --epochs?): no such key in overlay.yaml, "
        "train.yaml; nothing was run."
    )
    good = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, epochs=3)
    good.initialize()
    assert good.run() == [4]


@pytest.mark.parametrize(("text", "expected"), [("false", -1), ("False", -1), ("no", -1), ("true", 3), ("1", 3)])
def test_a_switch_given_as_text_is_a_bool(configs: tuple[Path, Path], text: str, expected: int) -> None:
    """``--use_sr=false`` arrives as the string 'false', which Python takes as true: it must switch the model off
    (``amp``: a switch whose default is an expression, the same)."""
    train, _ = configs
    workflow = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, use_sr=text, amp=text)
    workflow.initialize()
    assert workflow.run() == [expected]
    assert workflow.parser["use_sr"] is workflow.parser["amp"] is (expected != -1)


@pytest.mark.parametrize(("number", "expected"), [(0, -1), (1, 3)])
def test_a_switch_given_one_or_zero_is_a_bool(configs: tuple[Path, Path], number: int, expected: int) -> None:
    """``--use_sr 0`` arrives as the int 0 (fire parses it): the same as the text "0"; other numbers are refused."""
    train, _ = configs
    workflow = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, use_sr=number, amp=number)
    workflow.initialize()
    assert workflow.run() == [expected]
    assert workflow.parser["use_sr"] is workflow.parser["amp"] is (expected != -1)
    refused = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, amp=2)
    with pytest.raises(RuntimeError) as info:
        refused.initialize()
    assert user_error(info.value) == "ConfigOverrideError: --amp must be true or false, got 2; nothing was run."


@pytest.mark.parametrize("key", ["use_sr", "amp"])
def test_a_switch_given_nonsense_is_refused(configs: tuple[Path, Path], key: str) -> None:
    train, _ = configs
    workflow = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, **{key: "maybe"})
    with pytest.raises(RuntimeError) as info:
        workflow.initialize()
    expected = f"ConfigOverrideError: --{key} must be true or false, got 'maybe'; nothing was run."
    assert user_error(info.value) == expected


def test_a_number_given_text_is_refused(configs: tuple[Path, Path]) -> None:
    """``--epochs four`` stops before any work with a line naming the setting, not deep in the trainer."""
    train, _ = configs
    workflow = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, epochs="four")
    with pytest.raises(RuntimeError) as info:
        workflow.initialize()
    assert (
        user_error(info.value)
        == "ConfigOverrideError: --epochs must be a number (default 2), got 'four'; nothing was run."
    )
    good = ConfigWorkflow(config_file=str(train), logging_file=False, workflow_type=None, epochs="3")
    good.initialize()
    assert good.run() == [4]


def test_bundle_root_is_the_folder_above_configs_from_any_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "bundles" / "mammo_stn_classifier"
    monkeypatch.chdir(tmp_path)
    workflow = ConfigWorkflow(config_file=str(root / "configs" / "train.yaml"), logging_file=False, workflow_type=None)
    assert workflow.parser.get_parsed_content("bundle_root") == str(root)
    parser = ConfigParser(ConfigParser.load_config_file(str(root / "configs" / "train.yaml")))
    with pytest.raises(RuntimeError) as info:  # a bare parser has no file to take it from
        parser.get_parsed_content("bundle_root")
    assert "set bundle_root" in str(user_error(info.value))


def _chained(*errors: BaseException) -> BaseException:
    """``errors[0]`` raised from ``errors[1]`` raised from ..."""
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            _chained(RuntimeError("Failed to evaluate x"), FileNotFoundError("dataset_dir 'a' is absent")),
            "FileNotFoundError: dataset_dir 'a' is absent",
        ),
        (
            _chained(
                RuntimeError("Failed to instantiate {...}"),
                RuntimeError("applying transform <LoadMammogramd>"),
                DatalistError("datalist 'd.json': training[1] has no\n'label'."),
            ),
            "DatalistError: datalist 'd.json': training[1] has no 'label'.",
        ),
        (KeyError("no report under 'x'"), "KeyError: no report under 'x'"),
        (
            ValueError(
                "Caught RuntimeError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n"
                '  File "x.py", line 1\nmonai_mammo.data.dicom.MammoImageError: b.png: not an image file.\n\n'
                "The above exception was the direct cause of the following exception:\n\n"
                "RuntimeError: applying transform <Compose>\n"
            ),
            "MammoImageError: b.png: not an image file.",
        ),
    ],
)  # fmt: skip
def test_user_error_is_the_cause_below_the_wrappers(error: BaseException, line: str) -> None:
    assert user_error(error) == line
    assert format_error(error)[-1] == line


def test_a_bug_keeps_its_full_traceback() -> None:
    assert user_error(_chained(RuntimeError("Failed to evaluate x"), AttributeError("no attribute 'y'"))) is None
    assert format_error(AttributeError("y")) == []


def test_error_report_hook_prints_the_cause_last(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    calls = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: calls.append(args))
    monkeypatch.delenv("MONAI_MAMMO_TRACEBACK", raising=False)
    install_error_report()
    install_error_report()  # once
    error = _chained(RuntimeError("Failed to evaluate x"), FileNotFoundError("no model at m.pt: run `training` first"))
    sys.excepthook(RuntimeError, error, None)
    assert capsys.readouterr().err.splitlines()[-1] == "FileNotFoundError: no model at m.pt: run `training` first"
    sys.excepthook(AttributeError, AttributeError("bug"), None)  # a bug: the previous hook (full traceback)
    monkeypatch.setenv("MONAI_MAMMO_TRACEBACK", "1")
    sys.excepthook(RuntimeError, error, None)  # on request: the previous hook
    assert len(calls) == 2


def test_the_report_waits_for_the_threads_of_a_failed_pool() -> None:
    """CacheDataset's pool: after one item fails, another item's thread runs on; the process must not exit
    under it (a daemon thread torn down inside torch's C++ code aborts the process after the report)."""
    finished = threading.Event()

    def item(index: int) -> int:
        if index == 0:
            raise FileNotFoundError("missing.png: no such file")
        time.sleep(0.5)
        finished.set()
        return index

    with pytest.raises(FileNotFoundError), ThreadPool(2) as pool:
        list(pool.imap(item, range(2)))
    wait_for_pool_threads(timeout=10)
    assert finished.is_set()
