"""Entry point of ``python -m monai_mammo``.

Each subcommand lives in its own module of :mod:`monai_mammo.cli` exposing ``add_parser(subparsers)``,
which registers the subcommand and sets ``func`` (called with the parsed arguments, returning an exit
code). Add a new subcommand by adding its module name to ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from monai_mammo import __version__
from monai_mammo.cli.errors import CommandError

SUBCOMMANDS: tuple[str, ...] = ("synth", "prepare", "info", "preview", "label")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monai_mammo",
        description="monai_mammo: breast-imaging datasets, datalists and previews for MONAI.",
    )
    parser.add_argument("--version", action="version", version=f"monai_mammo {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"monai_mammo.cli.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CommandError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
