"""Any dataset laid out as class subfolders, or listed in a CSV file."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monai.utils import look_up_option

from monai_mammo.utils import Modality

from .common import OnError, Problems, class_label, class_name, is_image_file

__all__ = ["csv_items", "folder_items"]


def folder_items(
    root: str | os.PathLike,
    modality: str,
    class_map: Mapping[str, int] | None = None,
    on_error: str = OnError.RAISE,
) -> list[dict[str, Any]]:
    """Items of a folder of class subfolders (``root/benign/x.png``, searched recursively inside each class).

    Subfolder names are the classes ``normal``, ``benign``, ``malignant`` (any case) unless ``class_map`` maps
    folder names to integer labels. Each image is its own group: ``patient_id`` is its path below ``root``.

    Args:
        root: the folder of class subfolders.
        modality: ``"MG"`` or ``"US"``.
        class_map: folder name -> label; default the three class names (normal=0, benign=1, malignant=2).
        on_error: ``"raise"`` at a subfolder that is no known class, or ``"warn"`` and leave it out.

    Raises:
        FileNotFoundError: when ``root`` is no folder or holds no image.
        ValueError: for an unknown class folder (``on_error="raise"``).
    """
    root = Path(root)
    mod = look_up_option(modality, Modality).value
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    problems = Problems(root, on_error)
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            label = int(class_map[folder.name]) if class_map is not None else class_label(folder.name)
        except (KeyError, ValueError) as e:
            problems(f"{folder}: not a known class folder ({e})")
            continue
        for image in sorted(p for p in folder.rglob("*") if p.is_file() and is_image_file(p)):
            relative = image.relative_to(root).with_suffix("").as_posix()
            items.append(
                {
                    "image": os.path.abspath(image),
                    "label": label,
                    "class_name": folder.name if class_map is not None else class_name(label),
                    "modality": mod,
                    "patient_id": relative,
                }
            )
    problems.finish()
    if not items:
        raise FileNotFoundError(f"no image in the class subfolders of {root}")
    return items


def csv_items(
    csv_file: str | os.PathLike,
    modality: str | None = None,
    image_root: str | os.PathLike | None = None,
    on_error: str = OnError.RAISE,
) -> list[dict[str, Any]]:
    """Items of a CSV with columns ``image,label[,patient_id,modality]`` (other columns are kept as strings).

    ``image`` paths are relative to ``image_root`` (default: the CSV's folder) unless absolute; ``label`` is a
    class name or 0/1/2; a missing ``patient_id`` makes each image its own group.

    Args:
        csv_file: the CSV file.
        modality: ``"MG"`` or ``"US"`` for rows without a ``modality`` column/value.
        image_root: base folder of relative image paths.
        on_error: ``"raise"`` at a row with a missing image, an unknown label or no modality; ``"warn"`` leaves
            it out and warns once with the count.

    Raises:
        FileNotFoundError: for a missing CSV, or a missing image (``on_error="raise"``).
        ValueError: for missing columns, or a bad row (``on_error="raise"``).
    """
    path = Path(csv_file)
    if not path.is_file():
        raise FileNotFoundError(f"CSV not found: {path}")
    base = Path(image_root) if image_root is not None else path.parent
    problems = Problems(path, on_error)
    items = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("image", "label") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}; expected image,label[,patient_id,modality].")
        for number, row in enumerate(reader, start=2):
            where = f"{path}, row {number}"
            row = {k: (v or "").strip() for k, v in row.items() if k}
            image = base / row["image"]
            try:
                label = class_label(row["label"])
                mod = look_up_option(row.get("modality") or modality or "", Modality).value
            except ValueError as e:
                problems(f"{where}: {e}")
                continue
            if not image.is_file():
                problems(f"{where}: image not found: {image}", FileNotFoundError)
                continue
            items.append(
                {
                    **row,
                    "image": os.path.abspath(image),
                    "label": label,
                    "class_name": class_name(label),
                    "modality": mod,
                    "patient_id": row.get("patient_id") or row["image"],
                }
            )
    problems.finish()
    return items
