"""CBIS-DDSM: the Curated Breast Imaging Subset of DDSM (Lee et al., Sci. Data 4:170177, 2017; TCIA).

The description CSVs (``mass_case_description_train_set.csv``, ``calc_case_description_test_set.csv``, ...) hold
one row per abnormality: ``patient_id``, ``breast density`` (``breast_density`` in the mass CSVs), ``left or right
breast``, ``image view``, ``abnormality id``, ``abnormality type``, ``pathology`` (BENIGN, BENIGN_WITHOUT_CALLBACK,
MALIGNANT), ``image file path``, ``cropped image file path``, ``ROI mask file path``.

The TCIA download lays the DICOMs out as ``CBIS-DDSM/<Mass-Training_P_00001_LEFT_CC>/<study>/<series>/1-1.dcm``,
whereas the CSVs' ``image file path`` reads ``Mass-Training_P_00001_LEFT_CC/<uid>/<uid>/000000.dcm``: the study and
series folder names and the file name differ. Paths are therefore resolved by the top folder name, which both
share: the one DICOM under that folder is the full mammogram (a CSV path that exists as written is used as is).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

from tqdm import tqdm

from monai_mammo.utils import BreastClass, Laterality, Modality, View

from .common import OnError, Problems, class_label, class_name

__all__ = ["CBIS_DDSM_PATHOLOGIES", "cbis_ddsm_items"]

#: Pathology -> class.
CBIS_DDSM_PATHOLOGIES = {
    "MALIGNANT": BreastClass.MALIGNANT,
    "BENIGN": BreastClass.BENIGN,
    "BENIGN_WITHOUT_CALLBACK": BreastClass.BENIGN,
}
_REQUIRED = ("patient id", "left or right breast", "image view", "pathology", "image file path")


def _column(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def _find_csvs(root: Path) -> list[Path]:
    found = sorted({*root.glob("*case_description*.csv"), *root.glob("*/*case_description*.csv")})
    if not found:
        raise FileNotFoundError(
            f"no CBIS-DDSM description CSV (*case_description*.csv) in {root} or its subfolders; "
            "download them from TCIA beside the DICOM folder, or pass csv_files."
        )
    return found


def _dicom_folders(dicom_dir: Path) -> dict[str, Path]:
    for base in (dicom_dir / "CBIS-DDSM", dicom_dir):
        if base.is_dir():
            folders = {p.name: p for p in base.iterdir() if p.is_dir()}
            if any("_P_" in name for name in folders):
                return folders
    return {}


def _resolve(csv_path: str, dicom_dir: Path, folders: dict[str, Path]) -> Path | None:
    parts = [p for p in re.split(r"[\\/]+", csv_path.strip()) if p]
    if not parts:
        return None
    for base in (dicom_dir, dicom_dir / "CBIS-DDSM"):
        if (base / Path(*parts)).is_file():
            return base / Path(*parts)
    folder = folders.get(parts[0])
    if folder is None:
        return None
    dicoms = sorted(folder.rglob("*.dcm"))
    return dicoms[0] if len(dicoms) == 1 else None


def cbis_ddsm_items(
    root: str | os.PathLike,
    csv_files: list[str | os.PathLike] | None = None,
    dicom_dir: str | os.PathLike | None = None,
    on_error: str = OnError.RAISE,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Datalist items of CBIS-DDSM, one per full mammogram.

    Rows of one breast and view (``patient_id``, side, view) are merged over all CSVs (an image with a mass and a
    calcification appears in both a Mass and a Calc folder); the first resolved DICOM is used. ``label`` is
    malignant (2) if any abnormality is MALIGNANT, else benign (1; BENIGN_WITHOUT_CALLBACK counts as benign).
    Items also hold ``class_name``, ``modality`` (``"MG"``), ``patient_id`` (``P_00001``), ``laterality``,
    ``view``, ``density``, ``abnormality_types``, ``pathologies`` and ``official_split`` (``train``/``test``).

    Args:
        root: folder holding the CSVs (in it or one level down) and the DICOM tree.
        csv_files: the CSVs; default every ``*case_description*.csv`` in ``root`` or its subfolders.
        dicom_dir: folder holding ``CBIS-DDSM/`` (or the case folders themselves); default ``root``.
        on_error: ``"raise"`` at a malformed row, an unknown pathology or an image not found; ``"warn"`` leaves
            those rows out and warns once with the count.
        progress: show a progress bar.

    Raises:
        FileNotFoundError: for missing CSVs, or an image not found (``on_error="raise"``).
        ValueError: for a CSV without the expected columns, or a malformed row (``on_error="raise"``).
    """
    root = Path(root)
    dicoms = Path(dicom_dir) if dicom_dir is not None else root
    csvs = [Path(c) for c in csv_files] if csv_files else _find_csvs(root)
    folders = _dicom_folders(dicoms)
    problems = Problems(root, on_error)
    images: dict[tuple[str, str, str], dict[str, Any]] = {}
    for csv_file in csvs:
        if not csv_file.is_file():
            raise FileNotFoundError(f"CBIS-DDSM CSV not found: {csv_file}")
        with open(csv_file, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = {_column(c): c for c in reader.fieldnames or []}
            missing = [c for c in _REQUIRED if c not in columns]
            if missing:
                raise ValueError(f"{csv_file}: missing columns {missing}; is it a CBIS-DDSM description CSV?")
            rows = list(reader)
        split = "test" if "test" in csv_file.name.lower() else "train"
        for number, row in enumerate(tqdm(rows, desc=csv_file.name, disable=not progress), start=2):
            where = f"{csv_file}, row {number}"
            value = {name: (row.get(original) or "").strip() for name, original in columns.items()}
            side, view = value["left or right breast"].upper(), value["image view"].upper()
            pathology = value["pathology"].upper()
            if not value["patient id"] or side not in ("LEFT", "RIGHT") or view not in ("CC", "MLO"):
                problems(f"{where}: malformed patient id / side / view {value['patient id']!r} {side!r} {view!r}")
                continue
            if pathology not in CBIS_DDSM_PATHOLOGIES:
                problems(f"{where}: unknown pathology {pathology!r}, expected one of {list(CBIS_DDSM_PATHOLOGIES)}")
                continue
            key = (value["patient id"], side, view)
            item = images.get(key)
            if item is None:
                image = _resolve(value["image file path"], dicoms, folders)
                if image is None:
                    problems(
                        f"{where}: image {value['image file path']!r} not found (looked for one .dcm under "
                        f"{dicoms}/[CBIS-DDSM/]<its top folder>)",
                        FileNotFoundError,
                    )
                    continue
                density = value.get("breast density", "")
                item = images[key] = {
                    "image": os.path.abspath(image),
                    "modality": Modality.MG.value,
                    "patient_id": value["patient id"],
                    "laterality": (Laterality.LEFT if side == "LEFT" else Laterality.RIGHT).value,
                    "view": View(view).value,
                    "density": int(density) if density.isdigit() else None,
                    "abnormality_types": [],
                    "pathologies": [],
                    "official_split": split,
                }
            item["abnormality_types"].append(value.get("abnormality type", ""))
            item["pathologies"].append(pathology)
    problems.finish()
    items = []
    for item in images.values():
        worst = max(class_label(CBIS_DDSM_PATHOLOGIES[p]) for p in item["pathologies"])
        items.append({"image": item.pop("image"), "label": worst, "class_name": class_name(worst), **item})
    return items
