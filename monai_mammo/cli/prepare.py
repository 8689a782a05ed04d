"""``python -m monai_mammo prepare DATASET ROOT``: a leak-free MONAI datalist JSON of a public dataset.

One sub-subcommand per dataset (``mias``, ``cbis-ddsm``, ``busi``, ``breastmnist``, ``folder``); each builds the
items, splits them by patient (a test part and k stratified folds; BreastMNIST keeps its official splits),
writes the JSON with paths relative to it, checks that no patient is in two parts, and prints the counts.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from monai_mammo.cli.errors import CommandError
from monai_mammo.cli.info import summarize
from monai_mammo.data.datalist import write_datalist
from monai_mammo.data.datasets import (
    BREASTMNIST_CLASSES,
    BusiDuplicates,
    breastmnist_items,
    busi_items,
    cbis_ddsm_items,
    csv_items,
    folder_items,
    mias_items,
)
from monai_mammo.data.splits import check_no_patient_leakage, split_datalist
from monai_mammo.utils import BreastClass

THREE_CLASSES = {str(i): c.value for i, c in enumerate(BreastClass)}


def _sibling(output: Path, suffix: str, given: str | None) -> Path:
    return Path(given) if given else output.with_name(f"{output.stem}_{suffix}")


def _items(args: argparse.Namespace, output: Path) -> tuple[list[dict[str, Any]], str]:
    root = Path(args.root)
    if not root.exists():
        raise CommandError(f"{root} does not exist; give the dataset's folder (or file) as ROOT.")
    if args.dataset == "mias":
        return mias_items(root, on_error=args.on_error), "mini-MIAS"
    if args.dataset == "cbis-ddsm":
        items = cbis_ddsm_items(root, args.csv, args.dicom_dir, on_error=args.on_error, progress=True)
        return items, "CBIS-DDSM"
    if args.dataset == "busi":
        duplicates = BusiDuplicates.REMOVE if args.dedup else args.duplicates
        mask_dir = _sibling(output, "masks", args.mask_dir)
        items = busi_items(root, mask_dir, duplicates, args.max_distance, on_error=args.on_error, progress=True)
        return items, "BUSI"
    if root.suffix.lower() == ".csv":
        return csv_items(root, modality=args.modality, on_error=args.on_error), root.stem
    if args.modality is None:
        raise CommandError("a folder of class subfolders needs --modality MG or --modality US.")
    return folder_items(root, args.modality, on_error=args.on_error), root.name


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.dataset == "breastmnist":
            try:
                splits = breastmnist_items(args.root, _sibling(output, "images", args.image_dir), args.download, True)
            except RuntimeError as e:  # medmnist missing or the download failed
                raise CommandError(str(e)) from e
            training = [dict(it, fold=1) for it in splits["train"]] + [dict(it, fold=0) for it in splits["val"]]
            datalist: dict[str, Any] = {
                "name": "BreastMNIST",
                "description": "BreastMNIST official splits; fold 0 is the official validation split",
                "labels": dict(enumerate(BREASTMNIST_CLASSES)),
                "training": training,
                "test": splits["test"],
            }
        else:
            items, name = _items(args, output)
            if not items:
                raise CommandError(f"no usable item found in {args.root}.")
            datalist = {
                "name": name,
                "description": f"{name}: test {args.test_fraction:g} of the patients and {args.folds} folds, "
                f"stratified and grouped by patient, seed {args.seed}",
                "labels": THREE_CLASSES,
                **split_datalist(items, args.folds, args.test_fraction, args.seed),
            }
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    datalist["numTraining"] = len(datalist["training"])
    datalist["numTest"] = len(datalist.get("test", []))
    check_no_patient_leakage(datalist)
    try:
        write_datalist(output, datalist, relative=not args.absolute)
    except TypeError as e:
        raise CommandError(str(e)) from e
    labels = {int(k): v for k, v in datalist["labels"].items()}
    sections = {k: v for k, v in datalist.items() if k in ("training", "test")}
    print(summarize(sections, labels, sample=0))
    for folder, what in _written_folders(args, output):
        count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        print(f"wrote {count} {what} to {folder.absolute()}/ (--{what[:-1]}-dir to put them elsewhere)")
    print(f"wrote {output}")
    return 0


def _written_folders(args: argparse.Namespace, output: Path) -> list[tuple[Path, str]]:
    """The folders besides the datalist that ``prepare`` writes files into, and what they hold."""
    if args.dataset == "breastmnist":
        return [(_sibling(output, "images", args.image_dir), "images")]
    if args.dataset == "busi":
        return [(_sibling(output, "masks", args.mask_dir), "masks")]
    return []


def _common(parser: argparse.ArgumentParser, root_help: str, split: bool = True) -> None:
    parser.add_argument("root", help=root_help)
    parser.add_argument(
        "-o", "--output", default="datalist.json", help="datalist JSON to write (default datalist.json)"
    )
    parser.add_argument("--absolute", action="store_true", help="write absolute paths (default: relative to the JSON)")
    if split:
        parser.add_argument(
            "--folds", type=int, default=5, help="cross-validation folds of the training part (default 5)"
        )
        parser.add_argument(
            "--test-fraction",
            type=float,
            default=0.2,
            help="share of patients held out as 'test' (default 0.2; 0: none)",
        )
        parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same split (default 0)")
        parser.add_argument(
            "--on-error",
            choices=("raise", "warn"),
            default="raise",
            help="stop at a bad row or missing file (default), or warn, leave it out and count it",
        )
    parser.set_defaults(func=run)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="build a leak-free MONAI datalist JSON of a dataset",
        description=(
            "Build a MONAI datalist JSON ({'training': [... with 'fold'], 'test': [...]}) of a public breast-imaging "
            "dataset: a test part and k folds, stratified by class and grouped by patient so that no patient is in "
            "two parts. Labels: normal=0, benign=1, malignant=2 (BreastMNIST: 0 normal/benign, 1 malignant)."
        ),
    )
    datasets = parser.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    p = datasets.add_parser("mias", help="mini-MIAS (Info.txt + mdbNNN.pgm/png/jpg); groups by woman")
    _common(p, "folder holding Info.txt and the images")
    p = datasets.add_parser("cbis-ddsm", help="CBIS-DDSM (description CSVs + TCIA DICOM tree); groups by patient")
    _common(p, "folder holding the *case_description*.csv files and CBIS-DDSM/")
    p.add_argument("--csv", action="append", help="a description CSV (repeatable; default: all found in ROOT)")
    p.add_argument("--dicom-dir", help="folder holding CBIS-DDSM/ (default ROOT)")
    p = datasets.add_parser("busi", help="BUSI (benign/ malignant/ normal/ with masks); groups near-duplicates")
    _common(p, "folder holding benign/, malignant/, normal/ (Dataset_BUSI_with_GT)")
    p.add_argument("--dedup", action="store_true", help="remove near-duplicate images (same as --duplicates remove)")
    p.add_argument(
        "--duplicates",
        choices=[d.value for d in BusiDuplicates],
        default=BusiDuplicates.GROUP.value,
        help="near-duplicates: group them as one patient (default), remove all but one, or ignore",
    )
    p.add_argument("--max-distance", type=int, default=10, help="dHash bits (of 64) for near-duplicates (default 10)")
    p.add_argument("--mask-dir", help="where merged masks are written (default OUTPUT_STEM_masks beside the JSON)")
    p = datasets.add_parser("breastmnist", help="BreastMNIST npz with its official splits (546/78/156)")
    _common(p, "path of breastmnist.npz", split=False)
    p.add_argument("--image-dir", help="where the PNGs are written (default OUTPUT_STEM_images beside the JSON)")
    p.add_argument("--download", action="store_true", help="download the npz with medmnist if it is missing")
    p = datasets.add_parser("folder", help="a folder of class subfolders, or a CSV image,label[,patient_id,modality]")
    _common(p, "folder of normal/ benign/ malignant/ subfolders, or a .csv file")
    p.add_argument("--modality", choices=("MG", "US"), help="MG or US (needed unless the CSV has a modality column)")
