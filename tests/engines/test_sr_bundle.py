"""Tests of monai_mammo.engines.sr_bundle: bicubic-residual wrapper, settings check, content loss, SR image writer."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ignite.engine import Engine
from monai.data import MetaTensor
from PIL import Image

from monai_mammo.engines import (
    BicubicResidualSR,
    SRImageWriter,
    check_sr_settings,
    shave_border,
    sr_content_loss,
    sr_inference_files,
)
from monai_mammo.losses import PixelLoss, VGG19ContentLoss
from monai_mammo.networks.nets import SRGANGenerator


def _generator(scale: int) -> SRGANGenerator:
    return SRGANGenerator(scale_factor=scale, num_channels=8, num_res_blocks=1)


@pytest.mark.parametrize("scale", [2, 4])
def test_residual_starts_as_bicubic(scale: int) -> None:
    net = BicubicResidualSR(_generator(scale), scale).eval()
    lr = torch.rand(2, 1, 8, 8)
    expected = F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(lr), expected)


def test_residual_learns_beyond_bicubic() -> None:
    torch.manual_seed(0)
    net = BicubicResidualSR(_generator(2), 2)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    hr = torch.rand(4, 1, 16, 16)
    lr = F.avg_pool2d(hr, 2)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = F.mse_loss(net(lr), hr)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_no_residual_is_the_plain_generator() -> None:
    gen = _generator(2).eval()
    net = BicubicResidualSR(gen, 2, residual=False).eval()
    lr = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(net(lr), gen(lr))


def test_residual_scripts() -> None:
    net = BicubicResidualSR(_generator(2), 2).eval()
    lr = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(torch.jit.script(net)(lr), net(lr))


@pytest.mark.parametrize("scale,patch", [(2, 16), (4, [32, 64]), (2, None)])
def test_check_settings_accepts(scale: int, patch: int | list[int] | None) -> None:
    assert check_sr_settings(scale, patch) is True


@pytest.mark.parametrize(
    "scale,patch,match",
    [(3, 18, "scale_factor must be one of"), (8, 64, "scale_factor must be one of"), (2.5, 10, "scale_factor")],
)
def test_check_settings_rejects_scale(scale: float, patch: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_sr_settings(scale, patch)  # type: ignore[arg-type]


@pytest.mark.parametrize("patch", [18, [32, 30], 0])
def test_check_settings_rejects_patch(patch: int | list[int]) -> None:
    with pytest.raises(ValueError, match="patch_size must be positive multiples of scale_factor=4"):
        check_sr_settings(4, patch)


def test_content_loss_pixel() -> None:
    assert isinstance(sr_content_loss("pixel"), PixelLoss)


def test_content_loss_vgg19_needs_weights() -> None:
    with pytest.raises(ValueError, match="vgg19_weights"):
        sr_content_loss("vgg19")


def test_content_loss_vgg19_random_is_named_fallback() -> None:
    with pytest.warns(UserWarning, match="weak stand-in"):
        loss = sr_content_loss("vgg19_random", layer="relu1_2")
    assert isinstance(loss, VGG19ContentLoss) and loss.fallback == "random"


def test_content_loss_unknown_name() -> None:
    with pytest.raises(ValueError, match="pixl"):
        sr_content_loss("pixl")


def test_inference_files_from_items_and_folder(tmp_path: Path) -> None:
    assert sr_inference_files(None, [{"image": "a.png", "label": 1}]) == [{"image": "a.png"}]
    (tmp_path / "b.png").write_bytes(b"x")
    (tmp_path / ".hidden").write_bytes(b"x")
    assert sr_inference_files(tmp_path) == [{"image": str(tmp_path / "b.png")}]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        sr_inference_files(tmp_path / "missing")


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


@pytest.mark.parametrize("width", [0, 1, 3])
def test_shave_border(width: int) -> None:
    mask = torch.ones(1, 8, 10)
    out = shave_border(mask, width)
    assert float(out.sum()) == (8 - 2 * width) * (10 - 2 * width)
    assert float(mask.sum()) == 80  # the input is not changed


def test_shave_border_rejects_negative() -> None:
    with pytest.raises(ValueError, match="width"):
        shave_border(torch.ones(1, 4, 4), -1)
