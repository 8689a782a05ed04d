"""Data of the bundles: the synthetic default dataset, datalists, train/validation/test selection, early checks.

The bundles (``bundles/mammo_stn_classifier``, ``bundles/mammo_srgan``) read a MONAI datalist JSON, the format
written by :func:`monai_mammo.data.synthetic.make_synthetic_dataset` and by ``python -m monai_mammo prepare``::

    {"training": [{"image": "images/0001.png", "label": 2, "modality": "MG", "patient_id": "P1",
                   "fold": 3, "mask": "masks/0001.png"}, ...],
     "test": [...]}

Relative ``image`` / ``mask`` paths are relative to the datalist's folder. What the bundles call:

- :func:`ensure_dataset` returns the datalist to use: the ``datalist`` given (an override pointing at a
  ``prepare`` datalist), else ``dataset_dir/datalist.json``, else, when ``dataset_dir`` is empty, it generates the
  synthetic default data there first and logs it. A ``dataset_dir`` or ``datalist`` that does not exist is an error
  at once (a mistyped override fails at start, not after an epoch). Under ``torch.distributed`` rank 0 generates
  and the other ranks wait.
- :func:`select_fold` loads a datalist and selects ``train`` (items whose ``fold`` is not ``fold``), ``val``
  (``fold == fold``, or the datalist's own ``"validation"`` list when it has one) and ``test`` (the ``"test"``
  list), with absolute paths; with ``num_classes`` it checks the labels against the network's outputs
  (:func:`check_num_classes`).
- :func:`bundle_datalists` does both in one call, for a config::

      dataset_dir: null       # null: <bundle_root>/dataset, created and filled with synthetic data
      datalist: null          # or a prepare datalist: --datalist /data/mias/datalist.json
      data: "$monai_mammo.engines.bundle_datalists(@dataset_dir, @datalist, fold=@fold, num_classes=@num_classes,
                                                   synthetic={'num_images': 240, 'image_size': 128},
                                                   default_dir=@bundle_root + '/dataset')"
      train_files: "$@data['train']"
      val_files: "$@data['val']"
      test_files: "$@data['test']"
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch.distributed as dist

from monai_mammo.data import synthetic as synthetic_data
from monai_mammo.utils import MammoKeys

__all__ = [
    "DATALIST_NAME",
    "SYNTHETIC_DEFAULTS",
    "bundle_datalists",
    "check_num_classes",
    "ensure_dataset",
    "load_datalist",
    "select_fold",
]

logger = logging.getLogger(__name__)

DATALIST_NAME = "datalist.json"
"""File name of the datalist that :func:`ensure_dataset` looks for in (and generates into) ``dataset_dir``."""

SYNTHETIC_DEFAULTS: dict[str, Any] = {
    "num_images": 240,
    "modality": "MG",
    "image_size": 128,
    "image_format": "png",
    "seed": 0,
    "folds": 5,
    "test_fraction": 0.2,
}
"""Arguments of :func:`~monai_mammo.data.synthetic.make_synthetic_dataset` used by :func:`ensure_dataset`."""

_PATH_KEYS = (MammoKeys.IMAGE.value, MammoKeys.MASK.value)


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def _barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def _visible_entries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def ensure_dataset(
    dataset_dir: str | os.PathLike | None,
    datalist: str | os.PathLike | None = None,
    synthetic: Mapping[str, Any] | None = None,
    default_dir: str | os.PathLike | None = None,
) -> Path:
    """The datalist a bundle should use, generating the synthetic default dataset when there is none.

    Args:
        dataset_dir: folder of the dataset; it must exist. When it holds ``datalist.json`` that is used; when it
            is empty (hidden files aside) the synthetic dataset is generated into it and the log says so.
            ``None``: ``default_dir``, created when missing (the bundle's own ``dataset`` folder).
        datalist: a datalist JSON to use instead (e.g. made by ``python -m monai_mammo prepare``); ``dataset_dir``
            is then ignored.
        synthetic: arguments of :func:`~monai_mammo.data.synthetic.make_synthetic_dataset` overriding
            :data:`SYNTHETIC_DEFAULTS` (``num_images``, ``image_size``, ``modality``, ``seed``, ``folds``, ...).
        default_dir: the folder used when ``dataset_dir`` is ``None``.

    Returns:
        The path of the datalist JSON.

    Raises:
        FileNotFoundError: ``datalist`` is not a file; ``dataset_dir`` does not exist.
        ValueError: neither is given; ``dataset_dir`` is not a folder, or holds files but no ``datalist.json``
            (it is not overwritten with synthetic data).

    Example:
        >>> ensure_dataset("/tmp/empty_dir", synthetic={"num_images": 12, "image_size": 64})  # doctest: +SKIP
        PosixPath('/tmp/empty_dir/datalist.json')
    """
    if datalist is not None and str(datalist) != "":
        path = Path(datalist).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"datalist {os.fspath(path)!r} does not exist; make one with `python -m monai_mammo prepare ...` "
                "or leave datalist null to use the synthetic data in dataset_dir."
            )
        return path.resolve()
    if dataset_dir is None or str(dataset_dir) == "":
        if default_dir is None:
            raise ValueError("give dataset_dir (a folder, generated synthetic data when empty) or a datalist JSON.")
        dataset_dir = default_dir
        Path(default_dir).mkdir(parents=True, exist_ok=True)
    folder = Path(dataset_dir).expanduser()
    if not folder.exists():
        raise FileNotFoundError(
            f"dataset_dir {os.fspath(folder)!r} does not exist; create it (an empty folder gets the synthetic "
            "default data) or point datalist at a datalist JSON."
        )
    if not folder.is_dir():
        raise ValueError(f"dataset_dir {os.fspath(folder)!r} is not a folder.")
    target = folder / DATALIST_NAME
    if _rank() != 0:  # rank 0 finds or generates the datalist; the others wait for it, then read it
        _barrier()
        if not target.is_file():
            raise FileNotFoundError(f"rank 0 did not write {os.fspath(target)!r} (see its error).")
        return target.resolve()
    try:
        return _find_or_generate(folder, target, synthetic)
    finally:
        _barrier()  # exactly one barrier on every rank, error or not


def _find_or_generate(folder: Path, target: Path, synthetic: Mapping[str, Any] | None) -> Path:
    if target.is_file():
        logger.info("dataset: using the datalist %s", target)
        return target.resolve()
    if _visible_entries(folder):
        raise ValueError(
            f"dataset_dir {os.fspath(folder)!r} holds files but no {DATALIST_NAME}; write a datalist with "
            "`python -m monai_mammo prepare ...` and pass it as datalist, or use an empty folder to get the "
            "synthetic default data."
        )
    kwargs = {**SYNTHETIC_DEFAULTS, **dict(synthetic or {})}
    logger.info("dataset: %s is empty, generating the synthetic default dataset there: %s", folder, kwargs)
    written = Path(synthetic_data.make_synthetic_dataset(output_dir=folder, **kwargs))
    if written.resolve() != target.resolve():  # keep the documented name whatever the generator calls it
        os.replace(written, target)
    logger.info("dataset: synthetic datalist written to %s", target)
    return target.resolve()


def load_datalist(
    datalist: str | os.PathLike, path_keys: Sequence[str] = _PATH_KEYS, base_dir: str | os.PathLike | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Read a datalist JSON; make the relative paths under ``path_keys`` absolute.

    Args:
        datalist: the JSON file.
        path_keys: item keys holding file paths (``image``, ``mask``); ``None`` values are kept.
        base_dir: folder of relative paths (default: the datalist's folder).

    Returns:
        The datalist's lists (``training``, ``test``, ``validation``, ... whatever it holds), items copied.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not JSON, not an object of lists of objects, or no ``training`` list.
    """
    path = Path(datalist).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"datalist {os.fspath(path)!r} does not exist.")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"datalist {os.fspath(path)!r} is not valid JSON: {e}") from None
    if not isinstance(content, dict) or not isinstance(content.get("training"), list):
        raise ValueError(f"datalist {os.fspath(path)!r} must be a JSON object with a 'training' list of items.")
    base = Path(base_dir) if base_dir is not None else path.resolve().parent
    out: dict[str, list[dict[str, Any]]] = {}
    for key, items in content.items():
        if not isinstance(items, list):
            continue  # metadata such as "name", "num_classes", "labels"
        resolved = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValueError(f"datalist {os.fspath(path)!r}: {key}[{i}] must be an object, got {item!r}.")
            item = dict(item)
            for k in path_keys:
                v = item.get(k)
                if isinstance(v, str) and v and not os.path.isabs(v):
                    item[k] = os.path.normpath(base / v)
            resolved.append(item)
        out[key] = resolved
    return out


def check_num_classes(
    items: Sequence[Mapping[str, Any]],
    num_classes: int,
    label_key: str = MammoKeys.LABEL.value,
    source: str = "the datalist",
) -> None:
    """Check that the labels are the classes ``0 .. num_classes - 1`` of a network with ``num_classes`` outputs.

    Raises:
        ValueError: an item has no label or a label that is not an integer; a label outside
            ``[0, num_classes)``; or fewer distinct labels than ``num_classes`` (a network with more outputs
            than the data has classes). The message gives the labels found.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
    labels = []
    for i, item in enumerate(items):
        if label_key not in item:
            raise ValueError(f"{source}: item {i} ({item.get('image')}) has no {label_key!r}.")
        value = item[label_key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ValueError(f"{source}: item {i} has {label_key}={value!r}; class labels must be integers.")
        labels.append(int(value))
    found = sorted(set(labels))
    if not found:
        raise ValueError(f"{source} has no items.")
    if found[0] < 0 or found[-1] >= num_classes or len(found) != num_classes:
        raise ValueError(
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
        datalist: the JSON file (see the module docstring).
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
        ValueError: no validation items (``fold`` absent from the datalist, or no fold keys and no
            ``"validation"`` list), no training items, or a class count mismatch.
    """
    lists = load_datalist(datalist)
    training = lists["training"]
    if "validation" in lists or fold is None:
        train, val = training, lists.get("validation", [])
    else:
        missing = [i for i, item in enumerate(training) if fold_key not in item]
        if missing:
            raise ValueError(
                f"datalist {os.fspath(datalist)!r}: {len(missing)} training items have no {fold_key!r} (e.g. item "
                f"{missing[0]}); give the items folds or the datalist a 'validation' list."
            )
        folds = sorted({int(item[fold_key]) for item in training})
        if int(fold) not in folds:
            raise ValueError(f"fold={fold} is not one of the datalist's folds {folds}.")
        train = [item for item in training if int(item[fold_key]) != int(fold)]
        val = [item for item in training if int(item[fold_key]) == int(fold)]
    if not train or not val:
        raise ValueError(
            f"datalist {os.fspath(datalist)!r} gives {len(train)} training and {len(val)} validation items for "
            f"fold={fold}; both must be non-empty."
        )
    test = lists.get("test", [])
    if num_classes is not None:
        check_num_classes([*train, *val, *test], int(num_classes), label_key, f"datalist {os.fspath(datalist)!r}")
    logger.info("dataset: %d training, %d validation, %d test items (fold %s)", len(train), len(val), len(test), fold)
    return {"train": train, "val": val, "test": test}


def bundle_datalists(
    dataset_dir: str | os.PathLike | None,
    datalist: str | os.PathLike | None = None,
    fold: int | None = 0,
    num_classes: int | None = None,
    synthetic: Mapping[str, Any] | None = None,
    default_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """:func:`ensure_dataset` then :func:`select_fold`: everything a bundle config needs in one call.

    The items keep only their scalar fields (paths, label, patient id, fold, laterality, ...): list fields such as
    the lesion ``centers`` and ``abnormalities`` of a ``prepare mias`` datalist differ in length between images and
    would stop a data loader from batching them.

    Returns:
        ``{"train", "val", "test"}`` item lists as :func:`select_fold` and ``"datalist"``, the JSON's path.
    """
    path = ensure_dataset(dataset_dir, datalist, synthetic, default_dir)
    lists = select_fold(path, fold=fold, num_classes=num_classes)
    return {**{name: [_batchable(item) for item in items] for name, items in lists.items()}, "datalist": str(path)}


def _batchable(item: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``item`` that a data loader can batch: strings, numbers and booleans (no ``None``, no lists)."""
    return {key: value for key, value in item.items() if isinstance(value, (str, int, float, bool))}
