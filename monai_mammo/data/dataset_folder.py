"""Where a workflow's data comes from: a datalist JSON, or a dataset folder that gets the synthetic default data
when it is empty.

The bundles (``bundles/mammo_stn_classifier``, ``bundles/mammo_srgan``, ``bundles/breast_cross_transfer``) and
``python -m monai_mammo synth`` find their data here:

- :func:`ensure_dataset` returns the datalist to use: the ``datalist`` given (an override pointing at a
  ``prepare`` datalist), else ``dataset_dir/datalist.json``, else, when ``dataset_dir`` is empty, it generates the
  synthetic default data there first and logs it. A ``dataset_dir`` or ``datalist`` that does not exist is an error
  at once (a mistyped override fails at start, not after an epoch). Under ``torch.distributed`` rank 0 generates
  and the other ranks wait.
- :func:`bundle_datalists` does that and :func:`~monai_mammo.data.datalist.select_fold` in one call, for a
  config::

      data: "$monai_mammo.data.bundle_datalists(@dataset_dir, @datalist, fold=@fold, num_classes=@num_classes,
                                                 synthetic=@synthetic, default_dir=@bundle_root + '/dataset')"
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch.distributed as dist

from monai_mammo.data.datalist import DATALIST_NAME, batchable, select_fold
from monai_mammo.data.synthetic import make_synthetic_dataset

__all__ = ["SYNTHETIC_DEFAULTS", "bundle_datalists", "ensure_dataset"]

logger = logging.getLogger(__name__)

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
    written = Path(make_synthetic_dataset(output_dir=folder, **kwargs))
    if written.resolve() != target.resolve():  # keep the documented name whatever the generator calls it
        os.replace(written, target)
    logger.info("dataset: synthetic datalist written to %s", target)
    return target.resolve()


def bundle_datalists(
    dataset_dir: str | os.PathLike | None,
    datalist: str | os.PathLike | None = None,
    fold: int | None = 0,
    num_classes: int | None = None,
    synthetic: Mapping[str, Any] | None = None,
    default_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """:func:`ensure_dataset` then :func:`select_fold`: everything a bundle config needs in one call.

    The items keep only their scalar fields (paths, label, patient id, fold, laterality, ...), see
    :func:`~monai_mammo.data.datalist.batchable`, and of those the keys every item of the datalist has: a datalist
    merged from two ``prepare`` outputs (MIAS items have ``laterality``, BUSI items do not) still batches.

    Returns:
        ``{"train", "val", "test"}`` item lists as :func:`select_fold` and ``"datalist"``, the JSON's path.
    """
    path = ensure_dataset(dataset_dir, datalist, synthetic, default_dir)
    lists = {name: [batchable(item) for item in items] for name, items in select_fold(path, fold, num_classes).items()}
    every = [item for items in lists.values() for item in items]
    shared = set.intersection(*(set(item) for item in every)) if every else set()
    dropped = sorted({key for item in every for key in item} - shared)
    if dropped:
        logger.info("dataset: keys not in every item are left out of the batches: %s", dropped)
    return {
        **{name: [{k: v for k, v in item.items() if k in shared} for item in items] for name, items in lists.items()},
        "datalist": str(path),
    }
