"""MONAI datalist JSON files: writing, reading and checking them, and selecting a cross-validation fold.

This is the one datalist stack of the package: the command line (``prepare``, ``info``) and the bundles read
datalists through :func:`read_datalist`, check items with :func:`require_keys` / :func:`check_num_classes`, and
select folds with :func:`select_fold`.

The file is a dict of lists of items (``"training"``, ``"test"``, ...) plus metadata in the Medical Segmentation
Decathlon manner (``"name"``, ``"labels"``, ``"numTraining"``, ...). Paths in the items' path keys (``image``,
``mask``, ``masks``) are written relative to the JSON file's folder by default, so that the file and its images
move together; :func:`monai.data.load_decathlon_datalist` reads the file as is.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monai_mammo.utils import MammoKeys, atomic_write_text

__all__ = [
    "DATALIST_NAME",
    "PATH_KEYS",
    "DatalistError",
    "batchable",
    "check_num_classes",
    "read_datalist",
    "require_keys",
    "select_fold",
    "write_datalist",
]

logger = logging.getLogger(__name__)

#: Item keys holding a path or a list of paths.
PATH_KEYS: tuple[str, ...] = ("image", "mask", "masks")

DATALIST_NAME = "datalist.json"
"""File name of the datalist in a dataset folder (written by ``prepare``, ``synth`` and the synthetic default)."""


class DatalistError(ValueError):
    """A datalist that cannot be used: not JSON, a missing list, or an item without a required key."""


def _convert(value: Any, convert: Any) -> Any:
    if value is None or (isinstance(value, str) and not value):  # an item without that file (e.g. no mask)
        return value
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


def read_datalist(
    path: str | os.PathLike, path_keys: Sequence[str] = PATH_KEYS, required: Sequence[str] = ()
) -> dict[str, Any]:
    """Read a datalist JSON, turning relative item paths into absolute ones (against the file's folder).

    Every list of the file must hold objects (items); other values (``"name"``, ``"labels"``, ...) are metadata
    and kept as they are.

    Args:
        path: the JSON file.
        path_keys: the item keys that hold paths (``None`` values are kept).
        required: lists the file must have (e.g. ``("training",)``).

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        DatalistError: not valid JSON, not a JSON object, a list that holds something else than objects, or a
            ``required`` list missing.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise FileNotFoundError(f"datalist {os.fspath(source)!r} does not exist.")
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatalistError(f"datalist {os.fspath(source)!r} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise DatalistError(
            f"datalist {os.fspath(source)!r} must hold a JSON object with lists such as 'training', "
            f"got {type(data).__name__}."
        )
    for name in required:
        if not isinstance(data.get(name), list):
            raise DatalistError(f"datalist {os.fspath(source)!r} has no {name!r} list of items.")
    for name, value in data.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, Mapping):
                    raise DatalistError(
                        f"datalist {os.fspath(source)!r}: {name}[{i}] must be an object (an item), got {item!r}."
                    )
    folder = source.absolute().parent
    return _map_paths(data, lambda p: os.path.normpath(folder / p), path_keys)


def _where(source: str, section: str, index: int, item: Mapping[str, Any]) -> str:
    image = item.get(MammoKeys.IMAGE.value)
    return f"{source}: {section}[{index}]" + (f" (image {image})" if image is not None else "")


def require_keys(
    items: Sequence[Mapping[str, Any]], keys: Sequence[str], source: str = "the datalist", section: str = "items"
) -> None:
    """Check that every item has ``keys``; the error names the file, the list, the item's index and its image.

    The index is the item's position in ``section`` as written in the file (0-based, like JSON tools show it).

    Raises:
        DatalistError: the first item without one of ``keys``.
    """
    for i, item in enumerate(items):
        missing = [k for k in keys if k not in item]
        if missing:
            raise DatalistError(f"{_where(source, section, i, item)} has no {missing[0]!r}.")


def check_num_classes(
    lists: Mapping[str, Sequence[Mapping[str, Any]]],
    num_classes: int,
    label_key: str = MammoKeys.LABEL.value,
    source: str = "the datalist",
) -> None:
    """Check that the labels are the classes ``0 .. num_classes - 1`` of a network with ``num_classes`` outputs.

    Args:
        lists: the item lists to check, by name (e.g. ``{"training": [...], "test": [...]}``), so that an error
            names the list and the item's index in it.
        num_classes: the network's outputs.
        label_key: item key of the label.
        source: the datalist, for messages.

    Raises:
        DatalistError: an item has no label or a label that is not an integer; a label outside
            ``[0, num_classes)``; or fewer distinct labels than ``num_classes`` (a network with more outputs
            than the data has classes). The message gives the labels found.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
    labels = []
    for section, items in lists.items():
        require_keys(items, [label_key], source, section)
        for i, item in enumerate(items):
            value = item[label_key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise DatalistError(
                    f"{_where(source, section, i, item)} has {label_key}={value!r}; class labels must be integers."
                )
            labels.append(int(value))
    found = sorted(set(labels))
    if not found:
        raise DatalistError(f"{source} has no items.")
    if found[0] < 0 or found[-1] >= num_classes or len(found) != num_classes:
        raise DatalistError(
            f"class count mismatch: num_classes={num_classes} (the network's outputs) but {source} has the labels "
            f"{found}; set num_classes to {found[-1] + 1} or use a datalist with labels 0..{num_classes - 1}."
        )


def select_fold(
    datalist: str | os.PathLike,
    fold: int | None = 0,
    num_classes: int | None = None,
    fold_key: str = MammoKeys.FOLD.value,
    label_key: str = MammoKeys.LABEL.value,
) -> dict[str, list[dict[str, Any]]]:
    """The ``train``, ``val`` and ``test`` items of a datalist for one cross-validation fold.

    Args:
        datalist: the JSON file: ``{"training": [{"image": ..., "label": ..., "fold": ...}, ...], "test": [...]}``.
        fold: validation fold: ``training`` items with ``fold_key == fold`` validate, the others train. When the
            datalist has a ``"validation"`` list, or ``fold`` is ``None``, that list validates and all
            ``training`` items train.
        num_classes: the network's outputs; when given, all labels (train, val and test) are checked with
            :func:`check_num_classes`.
        fold_key: item key of the fold.
        label_key: item key of the class label.

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}`` with absolute paths; ``test`` is ``[]`` when the
        datalist has none.

    Raises:
        DatalistError: no validation items (``fold`` absent from the datalist, or no fold keys and no
            ``"validation"`` list), no training items, or a class count mismatch.
    """
    source = f"datalist {os.fspath(datalist)!r}"
    lists = read_datalist(datalist, required=("training",))
    training = [dict(item) for item in lists["training"]]
    validation = [dict(item) for item in lists.get("validation", [])]
    test = [dict(item) for item in lists.get("test", [])]
    if "validation" in lists or fold is None:
        train, val = training, validation
    else:
        require_keys(training, [fold_key], source, "training")
        folds = sorted({int(item[fold_key]) for item in training})
        if int(fold) not in folds:
            raise DatalistError(f"fold={fold} is not one of the folds {folds} of {source}.")
        train = [item for item in training if int(item[fold_key]) != int(fold)]
        val = [item for item in training if int(item[fold_key]) == int(fold)]
    if not train or not val:
        raise DatalistError(
            f"{source} gives {len(train)} training and {len(val)} validation items for fold={fold}; both must be "
            "non-empty."
        )
    if num_classes is not None:
        named = {"training": training, "validation": validation, "test": test}
        check_num_classes({k: v for k, v in named.items() if v}, int(num_classes), label_key, source)
    logger.info("dataset: %d training, %d validation, %d test items (fold %s)", len(train), len(val), len(test), fold)
    return {"train": train, "val": val, "test": test}


def batchable(item: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``item`` that a data loader can batch: strings, numbers and booleans (no ``None``, no lists).

    List fields such as the lesion ``centers`` of a ``prepare mias`` datalist differ in length between images and
    would stop a data loader from batching them.
    """
    return {key: value for key, value in item.items() if isinstance(value, (str, int, float, bool))}
