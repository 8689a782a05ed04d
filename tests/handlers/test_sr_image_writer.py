"""SRImageWriter: SR images written atomically, named after their sources."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from monai.data import MetaTensor
from PIL import Image

from monai_mammo.handlers import SRImageWriter


def _run_writer(writer: SRImageWriter, batch: dict, output: dict) -> None:
    engine = Engine(lambda e, b: output)
    writer.attach(engine)
    engine.run([batch], max_epochs=1)


def test_writer_png_names_from_metadata(tmp_path: Path) -> None:
    image = MetaTensor(torch.zeros(2, 1, 4, 4), meta={"filename_or_obj": ["/d/mdb001.png", "/d/case.2.dcm"]})
    pred = torch.stack([torch.full((1, 8, 8), 0.5), torch.linspace(-1, 2, 64).reshape(1, 8, 8)])
    writer = SRImageWriter(tmp_path / "sr")
    _run_writer(writer, {"image": image}, {"pred": pred})
    assert sorted(p.name for p in (tmp_path / "sr").iterdir()) == ["case_sr.png", "mdb001_sr.png"]
    first = np.asarray(Image.open(tmp_path / "sr" / "mdb001_sr.png"))
    assert first.dtype == np.uint16 and first.shape == (8, 8) and int(first[0, 0]) in (32767, 32768)
    clipped = np.asarray(Image.open(tmp_path / "sr" / "case_sr.png"))
    assert clipped.min() == 0 and clipped.max() == 65535
    assert (tmp_path / "sr" / "case_sr.png").stat().st_mode & stat.S_IROTH


def test_writer_npy_without_names(tmp_path: Path) -> None:
    pred = torch.rand(2, 1, 6, 6)
    writer = SRImageWriter(tmp_path, file_format="npy", suffix="")
    _run_writer(writer, {"image": torch.zeros(2, 1, 3, 3)}, {"pred": pred})
    assert [p.name for p in writer.written] == ["image_00000.npy", "image_00001.npy"]
    np.testing.assert_allclose(np.load(writer.written[1]), pred[1].numpy())
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_writer_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="value_range"):
        SRImageWriter(tmp_path, value_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="tiff"):
        SRImageWriter(tmp_path, file_format="tiff")
