"""Dataset builders: each returns datalist items (dicts) of one public breast-imaging dataset.

Every item holds ``image``, ``label`` (normal=0, benign=1, malignant=2; BreastMNIST: binary, 1 = malignant),
``class_name``, ``modality`` (``"MG"``/``"US"``) and ``patient_id`` (the unit a split keeps together), plus what the
dataset knows (MIAS lesion centres and radii, BUSI masks, CBIS-DDSM side and view).
"""

from __future__ import annotations

from .breastmnist import BREASTMNIST_CLASSES, BREASTMNIST_SPLITS, breastmnist_items, download_breastmnist
from .busi import BusiDuplicates, busi_items
from .cbis_ddsm import CBIS_DDSM_PATHOLOGIES, cbis_ddsm_items
from .common import BadInputWarning, OnError, class_label, class_name
from .dedup import dhash, duplicate_clusters
from .folder import csv_items, folder_items
from .mias import MIAS_IMAGE_SIZE, MiasLesion, MiasRecord, mias_items, mias_woman_id, parse_mias_info

__all__ = [
    "BREASTMNIST_CLASSES",
    "BREASTMNIST_SPLITS",
    "CBIS_DDSM_PATHOLOGIES",
    "MIAS_IMAGE_SIZE",
    "BadInputWarning",
    "BusiDuplicates",
    "MiasLesion",
    "MiasRecord",
    "OnError",
    "breastmnist_items",
    "busi_items",
    "cbis_ddsm_items",
    "class_label",
    "class_name",
    "csv_items",
    "dhash",
    "download_breastmnist",
    "duplicate_clusters",
    "folder_items",
    "mias_items",
    "mias_woman_id",
    "parse_mias_info",
]
