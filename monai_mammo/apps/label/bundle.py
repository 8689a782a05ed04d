"""A bundle of ``bundles/`` as the MONAI Label app uses it: its configs parsed, its weights found and versioned.

The app takes the bundle's own definitions (``network_def``, preprocessing, ``postprocessing``, ``prepare_batch``)
from its config files through :class:`monai.bundle.ConfigParser`, with the app's overrides applied, never a copy.
Nothing here imports ``monailabel``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from monai.bundle import ConfigParser

__all__ = ["MammoBundle", "ModelNotFoundError", "ModelVersion", "default_bundles_dir", "load_state_dict"]

_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


def default_bundles_dir() -> Path:
    """The repository's ``bundles/`` folder (the package is installed in development mode beside it)."""
    return Path(__file__).resolve().parents[3] / "bundles"


class ModelNotFoundError(FileNotFoundError):
    """A task's weights are not there yet; the message says how to train them or where to put them."""


@dataclass(frozen=True)
class ModelVersion:
    """Which weights answer: the file, a short content hash and its modification time."""

    path: str
    sha256: str
    modified: str

    @property
    def version(self) -> str:
        """``<sha256 prefix>`` of the weights: changes whenever the model file's content does."""
        return self.sha256[:12]

    def as_dict(self) -> dict[str, str]:
        return {"file": self.path, "version": self.version, "sha256": self.sha256, "modified": self.modified}


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The network's state dict from a bundle's ``model.pt`` (plain state dict, or ``{"model": state_dict}``)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, Mapping) and set(state) == {"model"} and isinstance(state["model"], Mapping):
        state = state["model"]
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: expected a state dict (or {{'model': state_dict}}), got {type(state).__name__}.")
    return dict(state)


class MammoBundle:
    """One bundle's configs, overrides and model file.

    Args:
        root: the bundle folder (``bundles/<name>``, with ``configs/``).
        configs: config files of ``configs/`` read in order (later ones overlay earlier ones), by stem.
        overrides: config ids and values set after reading (e.g. ``{"image_size": 32}``).
        model_path: the weights; default ``<root>/models/model.pt`` (where the bundle's training writes them).

    Example:
        >>> bundle = MammoBundle("bundles/mammo_stn_classifier", configs=("train", "inference"))  # doctest: +SKIP
        >>> preprocessing = bundle.get("validate#preprocessing")  # doctest: +SKIP
    """

    def __init__(
        self,
        root: str | os.PathLike,
        configs: Sequence[str] = ("train", "inference"),
        overrides: Mapping[str, Any] | None = None,
        model_path: str | os.PathLike | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.name = self.root.name
        self.config_files = [self._config_file(stem) for stem in configs]
        self.overrides = dict(overrides or {})
        self.model_path = Path(model_path) if model_path is not None else self.root / "models" / "model.pt"
        self._lock = threading.Lock()
        self._version_cache: tuple[tuple[float, int], ModelVersion] | None = None

    def _config_file(self, stem: str) -> Path:
        for suffix in _CONFIG_SUFFIXES:
            path = self.root / "configs" / f"{stem}{suffix}"
            if path.is_file():
                return path
        raise FileNotFoundError(f"bundle {self.root}: no configs/{stem}.yaml (or .json); expected a MONAI bundle.")

    def parser(self, **overrides: Any) -> ConfigParser:
        """A fresh parser of the configs, with ``bundle_root``, ``best_model_path`` and the overrides set."""
        parser = ConfigParser()
        parser.read_config([str(f) for f in self.config_files])
        parser["bundle_root"] = str(self.root)
        parser["best_model_path"] = str(self.model_path)
        for key, value in {**self.overrides, **overrides}.items():
            parser[key] = value
        return parser

    def get(self, id: str, **overrides: Any) -> Any:
        """The parsed (instantiated) content of config ``id``, e.g. ``"network_def"``."""
        return self.parser(**overrides).get_parsed_content(id, instantiate=True)

    def network(self) -> torch.nn.Module:
        """A new network from the bundle's ``network_def``, on the CPU, not loaded."""
        return self.get("network_def")

    def model_version(self) -> ModelVersion:
        """The model file's :class:`ModelVersion` (cached while its size and mtime stay the same).

        Raises:
            ModelNotFoundError: no model file yet.
        """
        try:
            stat = self.model_path.stat()
        except FileNotFoundError:
            raise ModelNotFoundError(self.missing_model_message()) from None
        key = (stat.st_mtime, stat.st_size)
        with self._lock:
            if self._version_cache is not None and self._version_cache[0] == key:
                return self._version_cache[1]
            digest = hashlib.sha256()
            with open(self.model_path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc).isoformat(timespec="seconds")
            version = ModelVersion(str(self.model_path), digest.hexdigest(), modified)
            self._version_cache = (key, version)
            return version

    def missing_model_message(self) -> str:
        """How to get the weights: the bundle's training command, or where to put a trained model."""
        return (
            f"model '{self.name}' is not trained yet: no weights at {self.model_path}; train it with POST "
            f"/train/{self.name} (if the app has that train task) or `python -m monai.bundle run training "
            f"--config_file {self.root}/configs/train.yaml`, or put a trained model.pt there."
        )
