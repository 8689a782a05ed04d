"""MONAI datalist JSON files: writing with relative or absolute paths, and reading back.

The file is a dict of lists of items (``"training"``, ``"test"``, ...) plus metadata in the Medical Segmentation
Decathlon manner (``"name"``, ``"labels"``, ``"numTraining"``, ...). Paths in the items' path keys (``image``,
``mask``, ``masks``) are written relative to the JSON file's folder by default, so that the file and its images
move together; :func:`monai.data.load_decathlon_datalist` reads the file as is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monai_mammo.utils import atomic_write_text

__all__ = ["PATH_KEYS", "read_datalist", "write_datalist"]

#: Item keys holding a path or a list of paths.
PATH_KEYS: tuple[str, ...] = ("image", "mask", "masks")


def _convert(value: Any, convert: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_convert(v, convert) for v in value]
    if isinstance(value, (str, os.PathLike)):
        return convert(os.fspath(value))
    raise TypeError(f"a path key must hold a path or a list of paths, got {type(value).__name__}.")


def _map_paths(datalist: Mapping[str, Any], convert: Any, path_keys: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, value in datalist.items():
        if isinstance(value, list) and all(isinstance(it, Mapping) for it in value):
            value = [{k: _convert(v, convert) if k in path_keys else v for k, v in it.items()} for it in value]
        out[section] = value
    return out


def write_datalist(
    path: str | os.PathLike,
    datalist: Mapping[str, Any],
    relative: bool = True,
    path_keys: Sequence[str] = PATH_KEYS,
) -> Path:
    """Write ``datalist`` as JSON (atomically), item paths relative to the file's folder or absolute.

    Args:
        path: the JSON file to write.
        datalist: sections (lists of item dicts) and metadata.
        relative: write paths relative to ``path``'s folder (default), else absolute.
        path_keys: the item keys that hold paths.

    Returns:
        The path written.

    Raises:
        TypeError: when a value is not JSON-serialisable (an array image: write images to files first).
    """
    target = Path(path).absolute()
    folder = target.parent

    def convert(p: str) -> str:
        full = Path(p) if os.path.isabs(p) else Path.cwd() / p
        return Path(os.path.relpath(full, folder)).as_posix() if relative else os.path.normpath(full)

    try:
        text = json.dumps(_map_paths(datalist, convert, path_keys), indent=1)
    except TypeError as e:
        raise TypeError(f"datalist for {target} is not JSON-serialisable: {e}") from e
    atomic_write_text(target, text + "\n")
    return target


def read_datalist(path: str | os.PathLike, path_keys: Sequence[str] = PATH_KEYS) -> dict[str, Any]:
    """Read a datalist JSON, turning relative item paths into absolute ones (against the file's folder).

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when it is not a JSON object.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"datalist not found: {source}")
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{source} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ValueError(f"{source} must hold a JSON object with lists such as 'training', got {type(data).__name__}.")
    folder = source.absolute().parent
    return _map_paths(data, lambda p: os.path.normpath(folder / p), path_keys)
