"""Every tutorial notebook (``tutorials/*.ipynb``) runs top to bottom without an error.

Each notebook is executed in a fresh ipykernel of this interpreter, from the ``tutorials/`` folder, and its outputs
are thrown away (``bash scripts/run_tutorials.sh --update`` is what stores them). A notebook whose metadata lists
packages under ``monai_mammo.requires`` (notebook 08 needs ``monailabel``, installed in ``.venv-label``) is skipped
with the reason when one of them is not importable here.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra's nbformat is not installed")
nbclient = pytest.importorskip("nbclient", reason="the test extra's nbclient is not installed")

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds for one cell; the notebooks together take about 10 minutes on 2 cores


def requirements(nb: nbformat.NotebookNode) -> list[str]:
    """The importable packages a notebook needs beyond the ``all`` extra (``metadata.monai_mammo.requires``)."""
    return list(nb.metadata.get("monai_mammo", {}).get("requires", []))


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
    # the kernel inherits the environment: MPLBACKEND makes matplotlib's inline figures, never a window
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client.execute()
    return nb


def test_notebooks_found() -> None:
    assert len(NOTEBOOKS) >= 4, f"expected the tutorial notebooks in {TUTORIALS}, found {len(NOTEBOOKS)}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    missing = [name for name in requirements(nb) if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(
            f"{path.name} needs {', '.join(missing)} (not installed in this environment); "
            "run it with .venv-label/bin/python -m pytest tests/tutorials, or bash scripts/run_tutorials.sh --update"
        )
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
