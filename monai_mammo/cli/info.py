"""``python -m monai_mammo info PATH``: what a dataset root or a datalist JSON holds.

Counts per class, per part (split or fold), per modality, the number of patients, and image sizes from a sample.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from PIL import Image

from monai_mammo.cli.errors import CommandError
from monai_mammo.data.datalist import read_datalist, require_keys
from monai_mammo.data.datasets import (
    breastmnist_items,
    busi_items,
    cbis_ddsm_items,
    csv_items,
    folder_items,
    mias_items,
)

KINDS = ("auto", "datalist", "mias", "cbis-ddsm", "busi", "breastmnist", "folder")


def detect_kind(path: Path) -> str:
    """Guess what ``path`` is: a datalist JSON, a BreastMNIST npz, a CSV, or a dataset root."""
    if path.suffix.lower() == ".json":
        return "datalist"
    if path.suffix.lower() == ".npz":
        return "breastmnist"
    if path.suffix.lower() == ".csv":
        return "folder"
    if not path.is_dir():
        raise CommandError(f"{path} is neither a folder, a datalist .json, a .npz nor a .csv.")
    if (path / "Info.txt").is_file():
        return "mias"
    if list(path.glob("*case_description*.csv")) + list(path.glob("*/*case_description*.csv")):
        return "cbis-ddsm"
    if all((path / c).is_dir() for c in ("benign", "malignant")) and list(path.glob("*/*_mask*.png")):
        return "busi"
    return "folder"


def _parts(items: Sequence[Mapping[str, Any]], section: str) -> list[str]:
    names = []
    for item in items:
        if "fold" in item:
            names.append(f"{section} fold {item['fold']}")
        else:
            split = str(item.get("official_split") or item.get("split") or "")
            names.append(split if split and section in ("all", split) else f"{section} {split}".strip())
    return names


def _part_order(part: str, parts: list[str]) -> tuple:
    """Folds in numeric order first, then the other parts in order of appearance."""
    section, _, fold = part.partition(" fold ")
    return (0, section, int(fold)) if fold.lstrip("-").isdigit() else (1, "", parts.index(part))


def _size(image: Any) -> str:
    if isinstance(image, np.ndarray):
        return "x".join(str(s) for s in image.shape)
    if str(image).lower().endswith(".dcm"):
        header = pydicom.dcmread(image, stop_before_pixels=True)
        return f"{header.Rows}x{header.Columns}"
    with Image.open(image) as im:
        return f"{im.height}x{im.width}"


def summarize(
    sections: Mapping[str, Sequence[Mapping[str, Any]]],
    labels: Mapping[int, str] | None = None,
    sample: int = 20,
    seed: int = 0,
) -> str:
    """A plain-text table of counts: per class, per part, per modality, patients and sampled image sizes.

    Args:
        sections: lists of items by name (``"training"``, ``"test"``, or ``"all"``).
        labels: class names of the integer labels; default the items' ``class_name``.
        sample: how many images to open for their sizes (0: none).
        seed: which images are sampled.
    """
    items = [it for value in sections.values() for it in value]
    names = dict(labels or {})
    for item in items:
        names.setdefault(int(item["label"]), str(item.get("class_name", item["label"])))
    classes = sorted(names)
    parts = [p for section, value in sections.items() for p in _parts(value, section)]
    per_part: dict[str, Counter] = {}
    for part, item in zip(parts, items, strict=True):
        per_part.setdefault(part, Counter())[int(item["label"])] += 1
    width = max([len(p) for p in per_part] + [10])
    header = (
        f"{'part':<{width}} " + " ".join(f"{names[c][:16]:>16}" for c in classes) + f" {'total':>7} {'patients':>9}"
    )
    lines = [f"items: {len(items)}   patients: {len({str(it.get('patient_id', it['image'])) for it in items})}", header]
    for part, counts in sorted(per_part.items(), key=lambda kv: _part_order(kv[0], parts)):
        patients = {str(it.get("patient_id", "")) for p, it in zip(parts, items, strict=True) if p == part}
        row = " ".join(f"{counts[c]:>16}" for c in classes)
        lines.append(f"{part:<{width}} {row} {sum(counts.values()):>7} {len(patients):>9}")
    total = Counter(int(it["label"]) for it in items)
    lines.append(f"{'all':<{width}} " + " ".join(f"{total[c]:>16}" for c in classes) + f" {len(items):>7}")
    modalities = Counter(str(it.get("modality", "?")) for it in items)
    lines.append("modality: " + ", ".join(f"{m} {n}" for m, n in sorted(modalities.items())))
    if sample > 0 and items:
        chosen = random.Random(seed).sample(items, min(sample, len(items)))
        sizes = Counter(_size(it["image"]) for it in chosen)
        lines.append(
            f"image sizes (H x W, {len(chosen)} sampled): "
            + ", ".join(f"{s} ({n})" for s, n in sizes.most_common(8))
            + (" ..." if len(sizes) > 8 else "")
        )
    return "\n".join(lines)


def _load(path: Path, kind: str, modality: str | None) -> tuple[dict[str, list[dict[str, Any]]], dict[int, str]]:
    if kind == "datalist":
        data = read_datalist(path)
        sections = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
        if not sections:
            raise CommandError(f"{path} holds no list of items (such as 'training').")
        for name, items in sections.items():
            require_keys(items, ["image", "label"], str(path), name)
        labels = {int(k): str(v) for k, v in (data.get("labels") or {}).items()}
        return sections, labels
    if kind == "mias":
        return {"all": mias_items(path)}, {}
    if kind == "cbis-ddsm":
        return {"all": cbis_ddsm_items(path, progress=True)}, {}
    if kind == "busi":
        return {"all": busi_items(path, duplicates="ignore", progress=True)}, {}
    if kind == "breastmnist":
        return dict(breastmnist_items(path)), {}
    if path.suffix.lower() == ".csv":
        return {"all": csv_items(path, modality=modality)}, {}
    if modality is None:
        raise CommandError("a folder of class subfolders needs --modality MG or --modality US.")
    return {"all": folder_items(path, modality)}, {}


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        raise CommandError(f"{path} does not exist.")
    kind = detect_kind(path) if args.kind == "auto" else args.kind
    sections, labels = _load(path, kind, args.modality)
    print(f"{path} ({kind})")
    print(summarize(sections, labels, sample=args.sample))
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "info",
        help="counts per class, split/fold, modality, patients and image sizes of a dataset or datalist",
        description=(
            "Describe a dataset root (mini-MIAS, CBIS-DDSM, BUSI, a folder of class subfolders), a BreastMNIST "
            ".npz, a CSV (image,label[,patient_id,modality]) or a datalist JSON written by 'prepare': counts "
            "per class and per split or fold, modalities, patients, and the sizes of a sample of images."
        ),
    )
    parser.add_argument("path", help="dataset folder, .npz, .csv or datalist .json")
    parser.add_argument("--kind", choices=KINDS, default="auto", help="what PATH is (default: guessed)")
    parser.add_argument("--modality", choices=("MG", "US"), help="modality of a folder/CSV without one")
    parser.add_argument("--sample", type=int, default=20, help="images opened to report sizes (default 20; 0: none)")
    parser.set_defaults(func=run)
