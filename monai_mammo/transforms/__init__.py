"""MONAI-style transforms for mammography and breast ultrasound (array ``X`` / dictionary ``Xd`` pairs)."""

from __future__ import annotations

# Each block below belongs to one module; add exports with a small edit to your own block.
# --- io ---
from .io import LoadMammogram as LoadMammogram
from .io import LoadMammogramd as LoadMammogramd

# --- intensity ---
from .intensity import NormalizeMammogram as NormalizeMammogram
from .intensity import NormalizeMammogramd as NormalizeMammogramd
from .intensity import NormMode as NormMode
from .intensity import NormRegion as NormRegion

# --- spatial ---
from .pectoral import SuppressPectoralMuscle as SuppressPectoralMuscle
from .pectoral import SuppressPectoralMuscled as SuppressPectoralMuscled
from .spatial import BreastMask as BreastMask
from .spatial import BreastMaskd as BreastMaskd
from .spatial import CropBreast as CropBreast
from .spatial import CropBreastd as CropBreastd
from .spatial import FlipToStandardLaterality as FlipToStandardLaterality
from .spatial import FlipToStandardLateralityd as FlipToStandardLateralityd
from .spatial import LateralitySource as LateralitySource

# --- lesion ---
from .lesion import CentreLabel as CentreLabel
from .lesion import CentreLabeld as CentreLabeld
from .lesion import LesionMask as LesionMask
from .lesion import LesionMaskd as LesionMaskd

# --- ultrasound ---
from .ultrasound import CropUltrasoundScan as CropUltrasoundScan
from .ultrasound import CropUltrasoundScand as CropUltrasoundScand

# --- superres ---
from .superres import MakeLowResolution as MakeLowResolution
from .superres import MakeLowResolutiond as MakeLowResolutiond
from .superres import RandMakeLowResolution as RandMakeLowResolution
from .superres import RandMakeLowResolutiond as RandMakeLowResolutiond
