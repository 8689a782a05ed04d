"""BreastMNIST (MedMNIST v2; Yang et al., Sci. Data 10:41, 2023): BUSI shrunk to 28 x 28, with official splits.

The npz holds ``train_images``/``val_images``/``test_images`` (uint8, N x H x W; 546/78/156 images at 28 x 28)
and ``*_labels`` (N x 1) with MedMNIST's labels 0 = malignant, 1 = normal or benign. Items here carry a
binary ``label`` with the positive class malignant: ``label = 1`` malignant, ``0`` normal or benign (the
original is kept as ``medmnist_label``); the three-class mapping of the other datasets does not apply.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from monai.utils import optional_import
from PIL import Image
from tqdm import tqdm

from monai_mammo.utils import Modality, atomic_write_bytes

__all__ = ["BREASTMNIST_CLASSES", "BREASTMNIST_SPLITS", "breastmnist_items", "download_breastmnist"]

medmnist, has_medmnist = optional_import("medmnist")

#: The official splits, in the npz's key prefixes.
BREASTMNIST_SPLITS = ("train", "val", "test")
#: Names of our binary labels: 0 and 1.
BREASTMNIST_CLASSES = ("normal or benign", "malignant")
_WHERE = (
    "download breastmnist.npz from MedMNIST v2 (https://zenodo.org/records/10519652, or "
    "https://medmnist.com) and pass its path, or install 'monai-mammo[medmnist]' and use download=True / --download"
)


def download_breastmnist(folder: str | os.PathLike) -> Path:
    """Download ``breastmnist.npz`` into ``folder`` with the ``medmnist`` package; return its path.

    Raises:
        RuntimeError: when ``medmnist`` is not installed, or the download fails (no network).
    """
    if not has_medmnist:
        raise RuntimeError(f"the package 'medmnist' is not installed; {_WHERE}.")
    Path(folder).mkdir(parents=True, exist_ok=True)
    try:
        medmnist.BreastMNIST(split="test", download=True, root=str(folder))
    except Exception as e:  # medmnist raises bare RuntimeErrors and network errors alike
        raise RuntimeError(f"downloading BreastMNIST into {folder} failed ({e}); {_WHERE}.") from e
    return Path(folder) / "breastmnist.npz"


def _load(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        data = np.load(path)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable npz file ({e}); {_WHERE}.") from e
    with data:
        missing = [f"{s}_{k}" for s in BREASTMNIST_SPLITS for k in ("images", "labels") if f"{s}_{k}" not in data]
        if missing:
            raise ValueError(f"{path} lacks the BreastMNIST keys {missing} (it has {sorted(data.files)}).")
        splits = {s: (data[f"{s}_images"], data[f"{s}_labels"].reshape(-1)) for s in BREASTMNIST_SPLITS}
    for split, (images, labels) in splits.items():
        if images.ndim != 3 or len(images) != len(labels):
            raise ValueError(
                f"{path}: {split}_images must be N x H x W with one label each, got {images.shape} and {labels.shape}."
            )
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(
                f"{path}: {split}_labels must be 0 (malignant) or 1 (normal/benign), got {np.unique(labels)}."
            )
    return splits


def breastmnist_items(
    npz: str | os.PathLike,
    output_dir: str | os.PathLike | None = None,
    download: bool = False,
    progress: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Items of BreastMNIST per official split: ``{"train": [...], "val": [...], "test": [...]}``.

    With ``output_dir`` each image is written (atomically) as ``output_dir/<split>/<split>_<index>.png`` and the
    item's ``image`` is that path; without it ``image`` is the uint8 array itself (nothing written). Items also hold
    ``label`` (1 malignant, 0 normal or benign), ``medmnist_label`` (the original), ``class_name``, ``modality``
    (``"US"``), ``patient_id`` (``breastmnist_<split>_<index>``: no patient IDs exist, each image is its own group),
    ``split`` and ``index``.

    Args:
        npz: path of ``breastmnist.npz`` (any MedMNIST size works).
        output_dir: where to write the PNGs; None keeps arrays.
        download: when ``npz`` is missing, download it there with ``medmnist``.
        progress: show a progress bar.

    Raises:
        FileNotFoundError: when ``npz`` is missing (and not downloaded), saying where to get it.
        ValueError: when the npz lacks the expected keys or holds other labels.
    """
    path = Path(npz)
    if not path.is_file():
        if not download:
            raise FileNotFoundError(f"BreastMNIST npz not found at {path}; {_WHERE}.")
        downloaded = download_breastmnist(path.parent)
        if downloaded != path:
            downloaded.replace(path)
    items: dict[str, list[dict[str, Any]]] = {}
    for split, (images, labels) in _load(path).items():
        items[split] = []
        for index in tqdm(range(len(images)), desc=f"BreastMNIST {split}", disable=not progress):
            label = int(labels[index] == 0)
            image: Any = images[index]
            if output_dir is not None:
                target = Path(output_dir) / split / f"{split}_{index:04d}.png"
                buffer = io.BytesIO()
                Image.fromarray(images[index]).save(buffer, format="PNG")
                atomic_write_bytes(target, buffer.getvalue())
                image = os.path.abspath(target)
            items[split].append(
                {
                    "image": image,
                    "label": label,
                    "medmnist_label": int(labels[index]),
                    "class_name": BREASTMNIST_CLASSES[label],
                    "modality": Modality.US.value,
                    "patient_id": f"breastmnist_{split}_{index:04d}",
                    "split": split,
                    "index": index,
                }
            )
    return items
