"""What a bundle run checks before any work, and how it reports an error: the bundle's own ``initialize`` step.

MONAI's ``ConfigWorkflow`` accepts any override (``--epoch 1`` beside a config that defines ``epochs`` silently adds an
unused key) and a failing config expression ends in a chain of tracebacks whose last line is ``Failed to evaluate
ConfigExpression``. The first ``initialize`` expression of each bundle calls :func:`setup_bundle_run`, which

- refuses an override key that the bundle's config files do not define, naming the key and the nearest defined ones
  (:func:`check_overrides`); nested keys (``--train#dataloader#num_workers 2``) are valid where the path exists;
- installs a ``sys.excepthook`` that prints the root cause of an error as one line, last
  (:func:`install_error_report`); ``MONAI_MAMMO_TRACEBACK=1`` restores the full traceback.

It works however the bundle is run, ``python -m monai.bundle run``, ``monai.bundle.run(...)``, ``ConfigWorkflow(...)``
or MONAI Label's subprocess, because it finds the running ``ConfigWorkflow`` in the call stack: MONAI hands a config
expression no reference to its parser or workflow, and keeps neither the config file names nor the overrides.
:func:`config_bundle_root` gives the bundle folder from the same workflow (the parent of its ``configs`` folder),
whatever the working directory. A bare ``ConfigParser`` (no workflow) is left alone: nothing is checked or installed.
Importing this module changes no global state.
"""

from __future__ import annotations

import difflib
import gc
import inspect
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from copy import deepcopy
from multiprocessing.dummy import DummyProcess
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from monai.bundle import ConfigParser, ConfigWorkflow
from monai.bundle.utils import DEFAULT_EXP_MGMT_SETTINGS

__all__ = [
    "TRACEBACK_ENV",
    "ConfigOverrideError",
    "ShortErrorLogFilter",
    "check_boolean_overrides",
    "check_model_file",
    "check_number_overrides",
    "check_overrides",
    "config_bundle_root",
    "format_error",
    "install_error_report",
    "run_config_copy",
    "running_parser",
    "running_workflow",
    "setup_bundle_run",
    "user_error",
    "wait_for_pool_threads",
]

TRACEBACK_ENV = "MONAI_MAMMO_TRACEBACK"
"""Environment variable: set to 1 for the full traceback of a failed bundle run instead of the one-line cause."""

# keys MONAI sets itself (arguments of `monai.bundle run` / ConfigWorkflow, the metadata, experiment tracking)
_MONAI_KEYS = frozenset(
    {"bundle_root", "config_file", "meta_file", "logging_file", "args_file", "init_id", "run_id", "final_id"}
    | {"tracking", "workflow_type", "workflow_name", "properties_path", "_meta_"}
    | {str(k) for settings in DEFAULT_EXP_MGMT_SETTINGS.values() for k in dict(settings.get("configs", {}))}  # type: ignore[call-overload]
    | {"execute_config", "is_not_rank0"}
)
# MONAI's and torch's wrappers of the error that matters
_WRAPPERS = ("Failed to evaluate", "Failed to instantiate", "applying transform")
_USER_ERRORS = (OSError, ValueError, LookupError, TypeError, ImportError, RuntimeError, MemoryError)
_TRACEBACK_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)): (.*)$")
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
_SEP = "#"  # how the command line nests ids (MONAI also reads "::")


class ConfigOverrideError(ValueError):
    """An override names a key that the bundle's config files do not define."""


def _frames() -> Iterator[FrameType]:
    frame = inspect.currentframe()
    while frame is not None:
        yield frame
        frame = frame.f_back


def running_workflow() -> ConfigWorkflow | None:
    """The ``ConfigWorkflow`` running this config: the innermost one whose method is in the call stack, else the
    one holding the ``ConfigParser`` in the call stack (``workflow.parser.get_parsed_content(...)`` called
    directly), or ``None`` (a bare ``ConfigParser``)."""
    for frame in _frames():
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, ConfigWorkflow):
            return candidate
    parser = running_parser()
    if parser is not None:
        for ref in gc.get_referrers(parser):
            if isinstance(ref, ConfigWorkflow) and ref.parser is parser:
                return ref
            if isinstance(ref, dict) and ref.get("parser") is parser:
                for owner in gc.get_referrers(ref):
                    if isinstance(owner, ConfigWorkflow) and owner.parser is parser:
                        return owner
    return None


def running_parser() -> ConfigParser | None:
    """The innermost ``ConfigParser`` whose method is in the call stack (the one evaluating this config)."""
    for frame in _frames():
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, ConfigParser):
            return candidate
    return None


def _workflow_call() -> tuple[Any, dict[str, Any]] | None:
    """``config_file`` and the keyword arguments of ``monai.bundle``'s ``create_workflow`` when it is in the call
    stack (``python -m monai.bundle run``, ``monai.bundle.run(...)``, MONAI Label), else ``None``."""
    for frame in _frames():
        if frame.f_code.co_name == "create_workflow" and frame.f_globals.get("__name__") == "monai.bundle.scripts":
            return frame.f_locals.get("config_file"), dict(frame.f_locals.get("_args") or {})
    return None


def _configs_folder(workflow: ConfigWorkflow) -> Path:
    return Path(workflow.config_root_path).resolve()


def config_bundle_root() -> str:
    """The folder of the bundle whose config is running: the parent of the folder of its (first) config file when
    that folder is ``configs``, else that folder (MONAI's own rule for the bundle's ``sys.path`` entry).

    Raises:
        ValueError: no ``ConfigWorkflow`` runs the config (e.g. a bare ``ConfigParser``): set ``bundle_root``.
    """
    workflow = running_workflow()
    if workflow is None:
        raise ValueError(
            "bundle_root is not set and no ConfigWorkflow runs this config to take it from: set bundle_root "
            "(e.g. parser['bundle_root'] = '/path/to/bundles/<name>')."
        )
    folder = _configs_folder(workflow)
    return str(folder.parent if folder.name == "configs" else folder)


def _paths(config: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(config, Mapping):
        for key, value in config.items():
            path = f"{prefix}{_SEP}{key}" if prefix else str(key)
            yield path, value
            yield from _paths(value, path)


def _defined(files: Sequence[str | os.PathLike]) -> dict[str, Any]:
    """Every key path (``a#b#c``) that the config files define, with its value (a later file's value wins)."""
    defined: dict[str, Any] = {}
    for f in files:
        for key, value in ConfigParser.load_config_file(str(f)).items():
            parts = str(key).replace("::", _SEP).split(_SEP)  # an overlay's nested id names a path
            for i in range(1, len(parts)):
                defined.setdefault(_SEP.join(parts[:i]), {parts[i]: None})
            path = _SEP.join(parts)
            defined[path] = value
            defined.update(_paths(value, path))
    return defined


def _added(config: Any, defined: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Key paths of ``config`` that ``defined`` lacks, under dicts that ``defined`` has and that are not empty
    (an empty dict, e.g. ``backbone_kwargs: {}``, takes any keys)."""
    if not isinstance(config, Mapping):
        return
    for key, value in config.items():
        path = f"{prefix}{_SEP}{key}" if prefix else str(key)
        if path not in defined:
            if not prefix and str(key) in _MONAI_KEYS:
                continue
            yield path
        elif isinstance(defined[path], Mapping) and defined[path]:
            yield from _added(value, defined, path)


def _suggest(key: str, defined: Sequence[str]) -> list[str]:
    """Up to 3 defined paths near ``key``: siblings with a close name first, then any path with a very close name."""
    parent, _, last = key.rpartition(_SEP)
    named: dict[str, list[str]] = {}
    for path in defined:
        name = path.rpartition(_SEP)[2]
        if not name.startswith("_"):  # not _target_, _meta_ ...
            named.setdefault(name, []).append(path)
    siblings = {p.rpartition(_SEP)[2]: p for p in defined if p.rpartition(_SEP)[0] == parent}
    near = [siblings[n] for n in difflib.get_close_matches(last, [n for n in siblings if n in named], 3, 0.6)]
    for name in difflib.get_close_matches(last, list(named), 3, 0.8):
        near += sorted(named[name], key=lambda p: (p.count(_SEP), p))
    return list(dict.fromkeys(near))[:3]


def check_overrides(config: Mapping[str, Any], files: Sequence[str | os.PathLike], allowed: Sequence[str] = ()) -> None:
    """Refuse keys of ``config`` (a parsed bundle config, overrides applied) that none of ``files`` defines.

    Args:
        config: the parser's config (``ConfigParser.get()``).
        files: the config files it was read from (or every config file of the bundle).
        allowed: more top-level keys to accept.

    Raises:
        ConfigOverrideError: one line naming each unknown key (as ``--key``) and the nearest defined keys.
    """
    defined = _defined(files)
    unknown = [k for k in _added(config, defined) if k not in allowed]
    if not unknown:
        return
    paths = sorted(defined)
    parts = []
    for key in unknown:
        near = _suggest(key, paths)
        hint = f" (did you mean {' or '.join('--' + n for n in near)}?)" if near else ""
        parts.append(f"--{key}{hint}")
    names = ", ".join(Path(f).name for f in files)
    raise ConfigOverrideError(
        f"unknown override{'s' if len(unknown) > 1 else ''} {'; '.join(parts)}: no such key in {names}; "
        "nothing was run."
    )


_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")

#: Switches whose default is an expression (``amp: "$torch.cuda.is_available()"``), so that their type cannot be
#: read from the config file; on the command line they take true or false like the switches defined as bools.
EXPRESSION_SWITCHES = frozenset({"amp", "cpu_amp"})


def _text_overrides(parser: ConfigParser, files: Sequence[str | os.PathLike]) -> Iterator[tuple[str, Any, str]]:
    """``(key, default, text)`` for each top-level setting of the config files that holds plain text (not an
    expression or a reference) in ``parser``: what the command line gave as text."""
    config = parser.get()
    for key, default in _defined(files).items():
        if _SEP in key or key not in config:
            continue
        value = config[key]
        if isinstance(value, str) and not value.startswith(("$", "@", "%")):
            yield key, default, value


def check_boolean_overrides(parser: ConfigParser, files: Sequence[str | os.PathLike]) -> None:
    """Make a top-level switch that the config files define as ``true`` / ``false`` (or one of
    :data:`EXPRESSION_SWITCHES`) a bool again when the command line gave it as text: ``--use_sr=false`` reaches the
    config as the string ``'false'``, which Python reads as true (fire turns only ``False`` / ``True`` into bools).

    Args:
        parser: the running bundle's parser (changed in place).
        files: the config files it was read from.

    Raises:
        ConfigOverrideError: a switch given a value that is neither true nor false (``--use_stn maybe``).
    """
    config = parser.get()
    for key, default in _defined(files).items():  # a number for a switch: 1 and 0 as the text "1" and "0", else refused
        value = config.get(key) if _SEP not in key else None
        switch = isinstance(default, bool) or key in EXPRESSION_SWITCHES
        if switch and isinstance(value, (int, float)) and not isinstance(value, bool):
            if value not in (0, 1):
                raise ConfigOverrideError(f"--{key} must be true or false, got {value!r}; nothing was run.")
            parser[key] = bool(value)
    for key, default, value in list(_text_overrides(parser, files)):
        if not isinstance(default, bool) and key not in EXPRESSION_SWITCHES:
            continue
        text = value.strip().lower()
        if text not in _TRUE + _FALSE:
            raise ConfigOverrideError(f"--{key} must be true or false, got {value!r}; nothing was run.")
        parser[key] = text in _TRUE


def check_number_overrides(parser: ConfigParser, files: Sequence[str | os.PathLike]) -> None:
    """Refuse text given on the command line for a top-level setting that the config files define as a number:
    ``--learning_rate abc`` would otherwise fail later, deep in the optimizer, with a message that does not name it
    (fire turns ``1e-3`` into a float, so a string here is text that is not a number).

    Args:
        parser: the running bundle's parser (changed in place: a number given as text becomes that number).
        files: the config files it was read from.

    Raises:
        ConfigOverrideError: a numeric setting given a value that is not a number (``--epochs four``).
    """
    for key, default, value in list(_text_overrides(parser, files)):
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        try:
            number = float(value)
        except ValueError:
            raise ConfigOverrideError(
                f"--{key} must be a number (default {default!r}), got {value!r}; nothing was run."
            ) from None
        parser[key] = int(number) if isinstance(default, int) and number.is_integer() else number


def _config_files(workflow: ConfigWorkflow) -> list[str]:
    """The config files the workflow was given (from ``create_workflow``'s arguments when it is in the call stack),
    else every config file in the workflow's config folder but the metadata (``ConfigWorkflow`` keeps no list)."""
    call = _workflow_call()
    if call is not None and call[0] is not None:
        files = call[0]
        if isinstance(files, str):
            files = files.split(",") if not Path(files).is_file() and "," in files else [files]
        return [str(f) for f in files]
    meta = workflow.meta_file if isinstance(workflow.meta_file, (list, tuple)) else [workflow.meta_file]
    skip = {Path(str(m)).resolve() for m in meta if m is not None}
    folder = _configs_folder(workflow)
    return [
        str(p)
        for p in sorted(folder.iterdir())
        if p.suffix in _CONFIG_SUFFIXES and p.name != "metadata.json" and p.resolve() not in skip
    ]


def setup_bundle_run() -> None:
    """The first step of a bundle's ``initialize``: refuse unknown overrides, install the short error report.

    Does nothing when no ``ConfigWorkflow`` runs the config (a bare ``ConfigParser``).

    Raises:
        ConfigOverrideError: an override key that the config files do not define.
    """
    workflow = running_workflow()
    if workflow is None:
        return
    install_error_report()
    files = _config_files(workflow)
    check_overrides(workflow.parser.get(), files)
    check_boolean_overrides(workflow.parser, files)
    check_number_overrides(workflow.parser, files)


def run_config_copy(run_id: str, **overrides: Any) -> list[Any]:
    """Run the expressions of ``run_id`` in a fresh copy of the running config with ``overrides`` set: one phase
    defined once in a bundle and run for several settings, each run with its own objects (e.g. fine-tuning per
    modality). The copy is not initialized again (the random generators go on from where they are).

    Returns:
        The results of the expressions.

    Raises:
        ValueError: no ``ConfigParser`` runs the calling expression, or it has no ``run_id``.
    """
    parser = running_parser()
    if parser is None or run_id not in parser:
        raise ValueError(f"run_config_copy({run_id!r}) must be called from a bundle config that defines {run_id!r}.")
    copy = ConfigParser(deepcopy(parser.get()), globals=dict(parser.globals))
    copy.update({k.replace("::", _SEP): v for k, v in overrides.items()})
    items = copy[run_id]
    ids = [f"{run_id}{_SEP}{i}" for i in range(len(items))] if isinstance(items, list) else [run_id]
    return [copy.get_parsed_content(i) for i in ids]


def check_model_file(path: str | os.PathLike, what: str = "trained model") -> str:
    """``path`` when it is a file; else a ``FileNotFoundError`` saying where it was looked for and how to make it.

    Raises:
        FileNotFoundError: naming the absolute path, and the ``training`` command of the running bundle.
    """
    if Path(path).is_file():
        return str(path)
    workflow = running_workflow()
    train = _configs_folder(workflow) / "train.yaml" if workflow is not None else Path("configs/train.yaml")
    raise FileNotFoundError(
        f"no {what} at {os.path.abspath(path)}: run `training` first (python -m monai.bundle run training "
        f"--config_file {train} with the same run_dir), or point --best_model_path at a model file."
    )


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in chain):
        chain.append(current)
        current = (
            current.__cause__
            if current.__cause__ is not None
            else (None if current.__suppress_context__ else current.__context__)
        )
    return chain


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)


def _worker_error(text: str) -> str | None:
    """The first (innermost) non-wrapper error line of a traceback that torch's DataLoader put in a message."""
    for line in text.splitlines():
        match = _TRACEBACK_LINE.match(line)
        if match and not match.group(2).startswith(_WRAPPERS):
            return f"{match.group(1).rpartition('.')[2]}: {match.group(2)}"
    return None


def user_error(exc: BaseException) -> str | None:
    """The one-line cause of a failed bundle run: the outermost error of the chain that is not a wrapper of MONAI
    (``Failed to evaluate ...``, ``applying transform ...``) or of torch's data loader workers; ``None`` when that
    error is not one a user can act on (e.g. an ``AttributeError``: a bug, whose full traceback is needed)."""
    for error in _chain(exc):
        message = _message(error)
        if message.startswith(_WRAPPERS):
            continue
        if "Original Traceback" in message:
            found = _worker_error(message)
            if found is not None:
                return " ".join(found.split())
        if not isinstance(error, _USER_ERRORS):
            return None
        return f"{type(error).__name__}: {' '.join(message.split())}"
    return None


def format_error(exc: BaseException) -> list[str]:
    """The lines :func:`install_error_report`'s hook prints for ``exc`` (empty: print the full traceback)."""
    cause = user_error(exc)
    if cause is None:
        return []
    return [f"The bundle run stopped (the full traceback: {TRACEBACK_ENV}=1):", cause]


def _hook(previous: Any) -> Any:
    def report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        lines = [] if os.environ.get(TRACEBACK_ENV, "") not in ("", "0") else format_error(exc)
        if lines:
            sys.stdout.flush()
            sys.stderr.write("\n".join(lines) + "\n")
            sys.stderr.flush()
        else:
            previous(exc_type, exc, tb)
        wait_for_pool_threads()

    report.monai_mammo_error_report = True  # type: ignore[attr-defined]
    return report


def wait_for_pool_threads(timeout: float = 60.0) -> None:
    """Wait (at most ``timeout`` seconds in all) for the threads of ``multiprocessing`` thread pools to finish.

    MONAI's ``CacheDataset`` fills its cache in a ``ThreadPool``; when one item fails, the pool is terminated but a
    thread that is running another item's transform carries on (threads cannot be stopped). Were the interpreter to
    shut down meanwhile, that daemon thread would be torn down inside torch's C++ code and the process would abort
    (``terminate called without an active exception``, exit status -6) after the error report. Such a thread ends
    once its current item is done: wait for it."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if isinstance(thread, DummyProcess) and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))


def install_error_report() -> None:
    """Make uncaught errors of this process print as :func:`format_error` (once; the previous hook handles the
    rest, and everything when ``MONAI_MAMMO_TRACEBACK=1``), and the root logger's handlers (the bundle's
    ``logging.conf``) leave out the tracebacks of logged user-facing errors (:class:`ShortErrorLogFilter`)."""
    if not getattr(sys.excepthook, "monai_mammo_error_report", False):
        sys.excepthook = _hook(sys.excepthook)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ShortErrorLogFilter) for f in handler.filters):
            handler.addFilter(ShortErrorLogFilter())


class ShortErrorLogFilter(logging.Filter):
    """A log filter that drops the traceback of a logged user-facing error (MONAI's ``StatsHandler`` logs the
    traceback of any error in an engine before it propagates), unless ``MONAI_MAMMO_TRACEBACK=1``; the message
    line stays, and the error report prints the cause."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and os.environ.get(TRACEBACK_ENV, "") in ("", "0") and user_error(exc) is not None:
            record.exc_info, record.exc_text = None, None
        return True
