"""Every tutorial notebook (``tutorials/*.ipynb``) runs top to bottom without an error.

Each notebook is executed in a fresh ipykernel of this interpreter, from the ``tutorials/`` folder, and its outputs
are thrown away (``bash scripts/run_tutorials.sh --update`` is what stores them). A notebook whose metadata has
``monai_mammo.needs: ["label"]`` (08, which starts the MONAI Label server with ``.venv-label/bin/python`` and
Orthanc) is skipped with the reason when those are missing; under ``CI=true`` it fails instead, as CI installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra's nbformat is not installed")
nbclient = pytest.importorskip("nbclient", reason="the test extra's nbclient is not installed")

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds for one cell; the notebooks together take about 10 minutes on 2 cores


LABEL_PYTHON = ROOT / ".venv-label" / "bin" / "python"
ORTHANC_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def missing_needs(nb: nbformat.NotebookNode) -> list[str]:
    """What a notebook needs beyond the ``all`` extra (``metadata.monai_mammo.needs``) and this machine lacks."""
    missing = []
    if "label" in nb.metadata.get("monai_mammo", {}).get("needs", []):
        label_env = LABEL_PYTHON.exists() and (
            subprocess.run([str(LABEL_PYTHON), "-c", "import monailabel"], capture_output=True).returncode == 0
        )
        if not label_env:
            missing.append("monailabel in .venv-label (bash scripts/setup_env.sh --label)")
        if shutil.which("Orthanc") is None or not ORTHANC_PLUGIN.is_file():
            missing.append("Orthanc and its DICOMweb plugin (apt-get install orthanc orthanc-dicomweb)")
    return missing


def execute_notebook(path: Path, kernel_name: str = "python3", timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` in a new kernel started in its folder; returns it with the new outputs.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message shows the cell and the traceback.
    """
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()  # ipykernel sets matplotlib's inline backend: figures become outputs, never windows
    return nb


def test_notebooks_found() -> None:
    assert len(NOTEBOOKS) >= 4, f"expected the tutorial notebooks in {TUTORIALS}, found {len(NOTEBOOKS)}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    missing = missing_needs(nb)
    if missing:
        message = f"{path.name} needs {' and '.join(missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI=true, so they must be installed.")
        pytest.skip(message)
    start = time.perf_counter()
    executed = execute_notebook(path)
    seconds = time.perf_counter() - start
    errors = [
        out
        for cell in executed.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    print(f"{path.name}: {seconds:.0f} s")
