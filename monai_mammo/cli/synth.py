"""``python -m monai_mammo synth OUTPUT_DIR``: write a synthetic breast-imaging dataset and its datalist."""

from __future__ import annotations

import argparse
from typing import Any

from monai_mammo.data.synthetic import ImageFormat, SyntheticModality, make_synthetic_dataset


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``synth`` subcommand."""
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic mammography / ultrasound dataset with a MONAI datalist",
        description=(
            "Generate synthetic mammograms (breast outline, 1/f^3 parenchyma, pectoral muscle on MLO, round "
            "benign vs spiculated malignant masses, calcifications) and breast ultrasound images (speckle, "
            "layers, oval benign vs irregular taller-than-wide malignant lesions with shadowing), three classes "
            "(normal=0, benign=1, malignant=2), with lesion masks and OUTPUT_DIR/datalist.json (training items "
            "with grouped stratified folds, and a test set). Deterministic: the same seed gives the same files."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("output_dir", metavar="OUTPUT_DIR", help="folder to write (created if needed)")
    parser.add_argument(
        "--modality", default="both", choices=[m.value for m in SyntheticModality], help="which modalities"
    )
    parser.add_argument("--num-images", type=int, default=200, help="total number of images (split evenly for both)")
    parser.add_argument(
        "--size",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="image size: S or H W (default: 256 for mammograms, 128 for ultrasound)",
    )
    parser.add_argument("--format", default="png", choices=[f.value for f in ImageFormat], help="image file format")
    parser.add_argument("--bit-depth", type=int, default=16, choices=(8, 16), help="bits of mammogram PNGs")
    parser.add_argument("--compression", default="none", choices=("none", "rle"), help="DICOM transfer syntax")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds of the training part")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="fraction of women held out for testing")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the dataset and print the datalist's path."""
    size = None if args.size is None else (args.size[0] if len(args.size) == 1 else tuple(args.size))
    path = make_synthetic_dataset(
        args.output_dir,
        num_images=args.num_images,
        modality=args.modality,
        image_size=size,
        image_format=args.format,
        seed=args.seed,
        folds=args.folds,
        test_fraction=args.test_fraction,
        bit_depth=args.bit_depth,
        compression=args.compression,
        progress=not args.no_progress,
    )
    print(path)
    return 0
