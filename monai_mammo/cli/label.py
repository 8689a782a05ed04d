"""``python -m monai_mammo label``: start the MONAI Label app, or print its folder.

``label start --studies <folder | DICOMweb URL> [--port N]`` runs ``monailabel start_server`` with the app of
:mod:`monai_mammo.apps.label` (the process becomes the server: stop it by its pid); ``label app-dir`` prints the
app's folder for ``monailabel start_server --app``. ``monailabel`` lives in its own environment
(``bash scripts/setup_env.sh --label`` -> ``.venv-label``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any

from monai_mammo.apps.label import APP_DIR
from monai_mammo.cli.errors import CommandError

MISSING = "monailabel is not installed here; install with scripts/setup_env.sh --label and use .venv-label"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``label`` subcommand."""
    parser = subparsers.add_parser(
        "label",
        help="serve the bundles' models through MONAI Label (needs .venv-label)",
        description="The MONAI Label app: infer mammo_classification, mammo_superres, breast_cross; train "
        "mammo_classification; a local folder or a DICOMweb PACS as the datastore.",
    )
    actions = parser.add_subparsers(dest="label_command", metavar="ACTION")
    start = actions.add_parser(
        "start",
        help="start the MONAI Label server on a studies folder or a DICOMweb URL",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    start.add_argument("--studies", required=True, help="a folder of images, or a DICOMweb root URL (PACS)")
    start.add_argument("--host", default="127.0.0.1", help="address to listen on")
    start.add_argument("--port", type=int, default=8000, help="port to listen on")
    start.add_argument(
        "--conf",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="app setting (models_dir, bundles_dir, bundle_overrides, sr_max_input_size, dicomweb_modalities, "
        "dicomweb_cache); repeat for several",
    )
    start.set_defaults(func=run_start)
    app_dir = actions.add_parser("app-dir", help="print the app's folder (for monailabel start_server --app)")
    app_dir.set_defaults(func=run_app_dir)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    return parser


def start_command(args: argparse.Namespace) -> list[str]:
    """The ``monailabel start_server`` command line for ``args``."""
    command = [sys.executable, "-m", "monailabel.main", "start_server", "--app", str(APP_DIR)]
    command += ["--studies", args.studies, "--host", args.host, "--port", str(args.port)]
    for key, value in args.conf:
        command += ["--conf", key, value]
    return command


def run_start(args: argparse.Namespace) -> int:
    """Print the address, then become ``monailabel start_server`` (same pid)."""
    if importlib.util.find_spec("monailabel") is None:
        raise CommandError(MISSING)
    studies = args.studies
    if not studies.startswith(("http://", "https://")) and not os.path.isdir(studies):
        raise CommandError(f"--studies {studies!r}: no such folder; expected a folder of images or a DICOMweb URL.")
    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port}: expected 1..65535.")
    print(f"MONAI Label: http://{args.host}:{args.port} (app {APP_DIR}, studies {studies})", flush=True)
    command = start_command(args)
    os.execv(command[0], command)
    return 0  # not reached


def run_app_dir(args: argparse.Namespace) -> int:
    """Print the app's folder."""
    print(APP_DIR)
    return 0
