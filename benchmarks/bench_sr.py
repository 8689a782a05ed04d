"""Benchmark: SR generator against bicubic, PSNR and SSIM inside the breast mask, on MIAS women held out of training.

For each scale (x2, x4) it trains the SR bundle's model (:class:`~monai_mammo.networks.nets.SRGANGenerator` inside
:class:`~monai_mammo.networks.nets.BicubicResidualSR`, which starts equal to bicubic) with
:class:`~monai_mammo.engines.SRGANTrainer` on random HR patches centred inside the breast of the training women:
``--pretrain-iters`` iterations of pixel MSE (SRResNet), then ``--gan-iters`` of the GAN phase (MSE content +
1e-3 adversarial). After each phase it measures, on the whole breast-cropped images of the held-out women, the masked
PSNR / SSIM (``monai_mammo.metrics``, as :class:`~monai_mammo.engines.SREvaluator` computes them) of the model and
of bicubic upsampling, in two regions:

- ``breast``: the breast mask (the bundle's definition without its border shave);
- ``interior``: the mask eroded by ``--margin`` pixels, where erosion also eats in from the image edges: no skin
  line and no image border. Where the breast meets the edge of the crop (chest wall), bicubic's border handling
  makes errors so much larger than in the tissue (in the images checked, 80-88% of its squared error in the
  breast came from the 4 outer pixel rows/columns) that ``breast`` mostly measures how a model fixes that border.

Data: the shared mini-MIAS part (214 images, 107 women; mdbNNN with odd NNN and the next even number are one
woman). Women, not images, are split: ``--test-fraction`` of them (seeded) are held out. HR = the 8-bit MIAS image
scaled to [0, 1], area-reduced by ``--reduce`` (1024 -> 512 px by default, for the CPU budget), cropped to the
bounding box of the breast mask (Otsu threshold of the smoothed image, largest connected component, holes filled:
this drops film labels); LR = antialiased bicubic downsampling of the HR, clipped to [0, 1] (as
``MakeLowResolutiond``). The MIAS loading, mask and split are written here because the library's MIAS builder and
splits were not available when this benchmark was written.

Usage::

    python benchmarks/bench_sr.py --mias-dir ../shared/data/mini-mias --scales 2 [--pretrain-iters 400]
        [--gan-iters 50] [--save-dir /tmp/models] [--out benchmarks/results/bench_sr_x2.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from ignite.engine import Events
from monai.utils import set_determinism
from scipy import ndimage
from skimage.filters import threshold_otsu

from monai_mammo.engines import SRGANTrainer
from monai_mammo.metrics import bicubic_upsample, masked_psnr, masked_ssim
from monai_mammo.networks.nets import BicubicResidualSR, SRGANDiscriminator, SRGANGenerator
from monai_mammo.transforms import LoadMammogram
from monai_mammo.utils import atomic_write_text


def breast_mask(image: np.ndarray) -> np.ndarray:
    """Breast mask of a (H, W) image in [0, 1]: Otsu on the smoothed image, largest component, holes filled."""
    smooth = ndimage.gaussian_filter(image, 2.0)
    fg = smooth > threshold_otsu(smooth) * 0.5
    labels, n = ndimage.label(fg)
    if n == 0:
        return np.ones_like(image, dtype=bool)
    sizes = ndimage.sum(fg, labels, index=np.arange(1, n + 1))
    return ndimage.binary_fill_holes(labels == (int(np.argmax(sizes)) + 1))


def load_mias(mias_dir: Path, reduce: int = 1) -> list[dict[str, Any]]:
    """Every ``mdbNNN`` image of the folder as HR (1, H, W) float in [0, 1] cropped to the breast, with its mask.

    ``reduce`` > 1 first reduces the image by area averaging (1024 -> 512 for 2), to fit a CPU budget.
    """
    loader = LoadMammogram(image_only=True)
    items = []
    for path in sorted(mias_dir.glob("mdb*")):
        match = re.fullmatch(r"mdb(\d{3})\.(png|pgm|jpg)", path.name)
        if match is None:
            continue
        number = int(match.group(1))
        image = np.asarray(loader(str(path)))[0].astype(np.float32) / 255.0
        if reduce > 1:
            image = F.avg_pool2d(torch.from_numpy(image)[None, None], reduce)[0, 0].numpy()
        mask = breast_mask(image)
        rows, cols = np.nonzero(mask)
        r0, r1 = rows.min(), rows.max() + 1
        c0, c1 = cols.min(), cols.max() + 1
        r1, c1 = r0 + (r1 - r0) // 4 * 4, c0 + (c1 - c0) // 4 * 4  # a multiple of every scale
        items.append(
            {
                "name": path.stem,
                "woman": (number + 1) // 2,
                "hr": torch.from_numpy(image[r0:r1, c0:c1].copy())[None],
                "mask": torch.from_numpy(mask[r0:r1, c0:c1].copy())[None].float(),
            }
        )
    if not items:
        raise FileNotFoundError(f"no mdbNNN images in {mias_dir}.")
    return items


def split_by_woman(items: list[dict], test_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    women = sorted({it["woman"] for it in items})
    rng = np.random.default_rng(seed)
    test_women = set(rng.choice(women, size=max(1, round(len(women) * test_fraction)), replace=False).tolist())
    return [it for it in items if it["woman"] not in test_women], [it for it in items if it["woman"] in test_women]


def downsample(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """LR image: antialiased bicubic downsampling, clipped to [0, 1]."""
    batch = hr if hr.dim() == 4 else hr[None]
    lr = F.interpolate(batch, scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False)
    lr = lr.clamp(0.0, 1.0)
    return lr if hr.dim() == 4 else lr[0]


class PatchSampler(torch.utils.data.IterableDataset):
    """Endless batches of HR patches whose centre lies inside the breast, with their LR and mask."""

    def __init__(self, items: list[dict], patch: int, batch: int, scale: int, seed: int) -> None:
        self.items, self.patch, self.batch, self.scale = items, patch, batch, scale
        self.rng = np.random.default_rng(seed)
        half = patch // 2
        self.centres = []
        for it in items:
            m = it["mask"][0].numpy().astype(bool)
            inner = np.zeros_like(m)
            inner[half : m.shape[0] - (patch - half), half : m.shape[1] - (patch - half)] = True
            self.centres.append(np.argwhere(m & inner))

    def __iter__(self):
        half = self.patch // 2
        while True:
            hr, mask = [], []
            for _ in range(self.batch):
                i = int(self.rng.integers(len(self.items)))
                cy, cx = self.centres[i][self.rng.integers(len(self.centres[i]))]
                sl = (slice(None), slice(cy - half, cy - half + self.patch), slice(cx - half, cx - half + self.patch))
                hr.append(self.items[i]["hr"][sl])
                mask.append(self.items[i]["mask"][sl])
            hr_b = torch.stack(hr)
            yield {"lr": downsample(hr_b, self.scale), "hr": hr_b, "mask": torch.stack(mask)}


@torch.no_grad()
def evaluate(net: torch.nn.Module, items: list[dict], scale: int, margin: int) -> dict[str, Any]:
    """Means over images of masked PSNR / SSIM of the model and of bicubic (as :class:`SREvaluator` computes them),
    in the breast mask and in its interior (the mask eroded by ``margin`` pixels, image edges included: no skin
    line, no image border). The model runs once per image."""
    net.eval()
    values: dict[str, dict[str, list[float]]] = {"breast": {}, "interior": {}}
    for it in items:
        hr = it["hr"][None]
        lr = downsample(it["hr"], scale)[None]
        sr = net(lr).clamp(0.0, 1.0)
        bicubic = bicubic_upsample(lr, size=hr.shape[2:], value_range=(0.0, 1.0))
        breast = it["mask"][None]
        interior = torch.from_numpy(ndimage.binary_erosion(breast[0, 0].numpy() > 0, iterations=margin))[None, None]
        for region, mask in (("breast", breast), ("interior", interior.float())):
            for name, image in (("", sr), ("_bicubic", bicubic)):
                psnr = float(masked_psnr(image, hr, mask, data_range=1.0)[0])
                ssim = float(masked_ssim(image, hr, mask, data_range=1.0)[0])
                values[region].setdefault("psnr" + name, []).append(psnr)
                values[region].setdefault("ssim" + name, []).append(ssim)
    out: dict[str, Any] = {}
    for region, metrics in values.items():
        means = {k: float(np.mean(v)) for k, v in metrics.items()}
        means["psnr_gain_db"] = means["psnr"] - means["psnr_bicubic"]
        means["ssim_gain"] = means["ssim"] - means["ssim_bicubic"]
        out[region] = means
    net.train()
    return out


def run_scale(args: argparse.Namespace, scale: int, train: list[dict], test: list[dict]) -> dict[str, Any]:
    set_determinism(args.seed)
    g = BicubicResidualSR(
        SRGANGenerator(scale_factor=scale, num_channels=args.channels, num_res_blocks=args.blocks), scale_factor=scale
    )
    d = SRGANDiscriminator(channels=(32, 32, 64, 64, 128, 128), strides=(1, 2, 1, 2, 1, 2), hidden_features=256)
    loader = torch.utils.data.DataLoader(
        PatchSampler(train, args.patch, args.batch, scale, args.seed), batch_size=None, num_workers=0
    )
    epoch = args.iters_per_epoch
    pre_epochs = max(1, args.pretrain_iters // epoch)
    gan_epochs = args.gan_iters // epoch
    trainer = SRGANTrainer(
        device="cpu",
        max_epochs=pre_epochs + gan_epochs,
        train_data_loader=loader,
        epoch_length=epoch,
        g_network=g,
        g_optimizer=torch.optim.Adam(g.parameters(), args.lr),
        content_loss_function=torch.nn.MSELoss(),
        d_network=d,
        d_optimizer=torch.optim.Adam(d.parameters(), args.lr),
        beta=1e-3,
        pretrain_epochs=pre_epochs,
    )
    result: dict[str, Any] = {"scale": scale, "pretrain_iters": pre_epochs * epoch, "gan_iters": gan_epochs * epoch}
    t0 = time.perf_counter()
    losses: list[float] = []

    @trainer.on(Events.EPOCH_COMPLETED)
    def _log(engine: SRGANTrainer) -> None:
        losses.append(float(engine.state.output["loss"]))
        print(
            f"x{scale} epoch {engine.state.epoch} ({engine.phase()}): loss {losses[-1]:.2e}, "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        if engine.state.epoch == pre_epochs:
            result["srresnet_mse"] = evaluate(g, test, scale, args.margin)
            result["train_seconds_pretrain"] = time.perf_counter() - t0
            print(f"x{scale} after pretraining: {result['srresnet_mse']}", flush=True)

    trainer.run()
    if gan_epochs:
        result["srgan"] = evaluate(g, test, scale, args.margin)
        print(f"x{scale} after GAN: {result['srgan']}", flush=True)
    result["seconds_total"] = time.perf_counter() - t0
    if args.save_dir is not None:  # the generator, for a look at its images (not part of the repository)
        args.save_dir.mkdir(parents=True, exist_ok=True)
        torch.save(g.state_dict(), args.save_dir / f"bench_sr_x{scale}.pt")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mias-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/mini-mias")
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--patch", type=int, default=64, help="HR patch side")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", type=int, default=32, help="generator width (paper: 64)")
    parser.add_argument("--blocks", type=int, default=4, help="residual blocks (paper: 8)")
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--pretrain-iters", type=int, default=1000)
    parser.add_argument("--gan-iters", type=int, default=100)
    parser.add_argument("--iters-per-epoch", type=int, default=50)
    parser.add_argument("--reduce", type=int, default=2, help="area-reduce MIAS (1024 px) by this first")
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--margin", type=int, default=16, help="erosion (pixels) of the breast mask for 'interior'")
    parser.add_argument("--save-dir", type=Path, default=None, help="save the trained generators there")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_sr.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    items = load_mias(args.mias_dir, args.reduce)
    train, test = split_by_woman(items, args.test_fraction, args.seed)
    print(
        f"{len(train)} training images ({len({i['woman'] for i in train})} women), {len(test)} test images "
        f"({len({i['woman'] for i in test})} women); loaded in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    report: dict[str, Any] = {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "data": {
            "train_images": len(train),
            "test_images": len(test),
            "test_women": sorted({i["woman"] for i in test}),
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "torch": torch.__version__,
        },
        "results": [],
    }
    for scale in args.scales:
        report["results"].append(run_scale(args, scale, train, test))
        atomic_write_text(args.out, json.dumps(report, indent=2))
    print(json.dumps(report["results"], indent=2))


if __name__ == "__main__":
    main()
