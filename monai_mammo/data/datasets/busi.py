"""BUSI: Breast Ultrasound Images (Al-Dhabyani et al., Data in Brief 28:104863, 2020).

Layout: class folders ``benign/``, ``malignant/``, ``normal/`` holding ``benign (12).png`` and its mask
``benign (12)_mask.png``; an image with several lesions has more masks, ``_mask_1.png``, ``_mask_2.png``. Masks
are mostly 1-bit PNGs, a few RGB/RGBA; normal images have all-zero masks. BUSI holds no patient IDs and many
near-duplicates (the same lesion saved twice or the next frame), some across classes.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from monai.utils import StrEnum, look_up_option
from PIL import Image
from tqdm import tqdm

from monai_mammo.data.reader import IMAGE_SUFFIXES
from monai_mammo.utils import BreastClass, Modality, atomic_write_bytes

from .common import BadInputWarning, OnError, Problems, class_label
from .dedup import DEFAULT_MAX_DISTANCE, duplicate_clusters

__all__ = ["BusiDuplicates", "busi_items"]

logger = logging.getLogger(__name__)
_MASK = re.compile(r"^(?P<stem>.+?)_mask(?:_(?P<index>\d+))?$", re.IGNORECASE)


class BusiDuplicates(StrEnum):
    """What :func:`busi_items` does with near-duplicate images.

    - ``"ignore"``: no hashing; every image is its own group.
    - ``"group"``: near-duplicates share one ``patient_id``, so a split never puts them in two parts.
    - ``"remove"``: keep the first image of each group (class, then number order) and leave the others out;
      a group whose images carry different classes is left out entirely (its label is unknowable).
    """

    IGNORE = "ignore"
    GROUP = "group"
    REMOVE = "remove"


def _natural_key(path: Path) -> tuple:
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name))


def _scan(root: Path, problems: Problems) -> list[tuple[str, Path, list[Path]]]:
    """``(class name, image, masks)`` for every image under the class folders."""
    folders = {p.name.lower(): p for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
    classes = [c.value for c in BreastClass if c.value in folders]
    if not classes:
        raise FileNotFoundError(
            f"no BUSI class folder (benign/, malignant/, normal/) in {root}; "
            "point ROOT at the Dataset_BUSI_with_GT folder."
        )
    found: list[tuple[str, Path, list[Path]]] = []
    for name in classes:
        images: dict[str, Path] = {}
        masks: dict[str, list[tuple[int, Path]]] = {}
        for path in sorted(folders[name].iterdir(), key=_natural_key):
            if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            match = _MASK.match(path.stem)
            if match:
                masks.setdefault(match.group("stem"), []).append((int(match.group("index") or 0), path))
            else:
                images[path.stem] = path
        for stem in sorted(set(masks) - set(images)):
            problems(f"{masks[stem][0][1]}: a mask without its image {stem}.png", FileNotFoundError)
        for stem, image in images.items():
            if stem not in masks:
                problems(f"{image}: no mask {stem}_mask.png beside it", FileNotFoundError)
                continue
            found.append((name, image, [p for _, p in sorted(masks[stem])]))
    return found


def _merged_mask(image: Path, masks: list[Path]) -> np.ndarray:
    """Union of the masks as uint8 0/255; ValueError when a mask's size differs from the image's."""
    with Image.open(image) as im:
        size = im.size
    union = np.zeros(size[::-1], dtype=bool)
    for mask in masks:
        with Image.open(mask) as m:
            if m.size != size:
                raise ValueError(f"{mask}: mask size {m.size} differs from the image's {size}")
            union |= np.asarray(m.convert("L")) > 0
    return union.astype(np.uint8) * 255


def _patient_id(class_dir: str, image: Path) -> str:
    return "busi_" + re.sub(r"[^0-9a-z]+", "_", image.stem.lower()).strip("_")


def busi_items(
    root: str | os.PathLike,
    mask_dir: str | os.PathLike | None = None,
    duplicates: str = BusiDuplicates.GROUP,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    on_error: str = OnError.RAISE,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Datalist items of BUSI, one per image.

    Each item holds ``image`` (absolute path), ``label`` (normal=0, benign=1, malignant=2), ``class_name``,
    ``modality`` (``"US"``), ``patient_id``, ``masks`` (the original mask files) and, when ``mask_dir`` is given,
    ``mask``: the union of the image's masks as one 8-bit 0/255 PNG written (atomically) to
    ``mask_dir/<class>/<name>_mask.png`` (also for single masks, so that every mask is one-channel 0/255).
    BUSI has no patient IDs: each image is its own group (``busi_benign_12``), except that with
    ``duplicates="group"`` near-duplicates share the ID of the group's first image. Items of a group also list
    the other members (relative to ``root``) in ``duplicates``; with ``"remove"`` the kept image lists those removed.

    Args:
        root: the folder holding ``benign/``, ``malignant/``, ``normal/``.
        mask_dir: where merged masks are written; None writes nothing and gives only ``masks``.
        duplicates: ``"group"`` (default), ``"remove"`` or ``"ignore"``, see :class:`BusiDuplicates`.
        max_distance: dHash distance (of 64 bits) at or under which two images are near-duplicates.
        on_error: ``"raise"`` at an image without mask, a mask without image, a mask of another size or an
            unreadable file; ``"warn"`` leaves those out and warns once with the count.
        progress: show progress bars.

    Raises:
        FileNotFoundError: when ``root`` has no class folder, or for a missing image/mask (``on_error="raise"``).
        ValueError: for a mask of another size or an unreadable file (``on_error="raise"``).
    """
    root = Path(root)
    mode = look_up_option(duplicates, BusiDuplicates)
    problems = Problems(root, on_error)
    items: list[dict[str, Any]] = []
    for name, image, masks in tqdm(_scan(root, problems), desc="BUSI", disable=not progress):
        item: dict[str, Any] = {
            "image": os.path.abspath(image),
            "label": class_label(name),
            "class_name": name,
            "modality": Modality.US.value,
            "patient_id": _patient_id(name, image),
            "masks": [os.path.abspath(m) for m in masks],
        }
        if mask_dir is not None:
            try:
                merged = _merged_mask(image, masks)
            except (OSError, ValueError) as e:
                problems(f"{image}: {e}", ValueError)
                continue
            target = Path(mask_dir) / name / f"{image.stem}_mask.png"
            buffer = io.BytesIO()
            Image.fromarray(merged).save(buffer, format="PNG")
            atomic_write_bytes(target, buffer.getvalue())
            item["mask"] = os.path.abspath(target)
        items.append(item)
    problems.finish()
    if mode == BusiDuplicates.IGNORE:
        return items
    return _handle_duplicates(items, root, mode, max_distance, progress)


def _handle_duplicates(
    items: list[dict[str, Any]], root: Path, mode: str, max_distance: int, progress: bool
) -> list[dict[str, Any]]:
    clusters = duplicate_clusters([it["image"] for it in items], max_distance=max_distance, progress=progress)
    dropped: set[int] = set()
    cross = []
    for cluster in clusters:
        names = [Path(os.path.relpath(items[i]["image"], os.path.abspath(root))).as_posix() for i in cluster]
        if len({items[i]["label"] for i in cluster}) > 1:
            cross.append(names)
        for i in cluster:
            items[i]["patient_id"] = items[cluster[0]]["patient_id"]
            items[i]["duplicates"] = [n for k, n in zip(cluster, names, strict=True) if k != i]
        if mode == BusiDuplicates.REMOVE:
            dropped.update(cluster if names in cross else cluster[1:])
    logger.info(
        "BUSI: %d near-duplicate groups holding %d images%s",
        len(clusters),
        sum(len(c) for c in clusters),
        f"; removed {len(dropped)}, kept the first of each group" if mode == BusiDuplicates.REMOVE else "",
    )
    if cross:
        action = "removed all of them" if mode == BusiDuplicates.REMOVE else "grouped them as one patient"
        warnings.warn(
            f"BUSI: {len(cross)} near-duplicate group(s) span classes ({action}): "
            + "; ".join(" = ".join(c) for c in cross),
            BadInputWarning,
            stacklevel=3,
        )
    return [it for i, it in enumerate(items) if i not in dropped]
