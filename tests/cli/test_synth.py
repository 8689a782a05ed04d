from __future__ import annotations

import json

import pytest

from monai_mammo.cli.main import main


def test_synth_writes_dataset(tmp_path, capsys):
    code = main(
        [
            "synth",
            str(tmp_path),
            "--modality",
            "US",
            "--num-images",
            "20",
            "--size",
            "48",
            "64",
            "--folds",
            "2",
            "--no-progress",
        ]
    )
    assert code == 0
    path = tmp_path / "datalist.json"
    assert capsys.readouterr().out.strip() == str(path)
    datalist = json.loads(path.read_text())
    assert len(datalist["training"]) + len(datalist["test"]) == 20
    assert all(item["modality"] == "US" for item in datalist["training"])


def test_synth_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--num-images" in out and "--modality" in out and "datalist.json" in out


def test_synth_bad_count_is_a_clear_error(tmp_path, capsys):
    assert main(["synth", str(tmp_path), "--num-images", "-5", "--no-progress"]) == 2
    assert "num_images" in capsys.readouterr().err


def test_synth_unknown_modality(tmp_path):
    with pytest.raises(SystemExit):
        main(["synth", str(tmp_path), "--modality", "CT"])
