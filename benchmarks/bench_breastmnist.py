"""Benchmark: BreastMNIST (MedMNIST v2) on its official splits, against the MedMNIST v2 table.

Trains on ``train`` (546 images), picks the epoch with the best ``val`` AUC (78 images), and reports ``test``
(156 images) once, with 95% bootstrap intervals (resampling images: BreastMNIST has no patient IDs). The test
split is never looked at before the final evaluation; every choice below (model, augmentation, epochs) is fixed in
advance or chosen on ``val``.

Models:
- ``resnet18``: MONAI's ``ResNet`` (basic blocks 2-2-2-2) with a 3x3 stride-1 stem and no max-pool at 28 x 28, the
  architecture of MedMNIST's "ResNet-18 (28)" row, trained with flips and small affine augmentation, AdamW, cosine
  schedule, and horizontal-flip test-time averaging; ``--avg-down`` gives it ResNet-D shortcuts (a 2x2 average
  before each downsampling 1x1 projection, as the classifier bundle's ``avg_down``).
- ``ensemble``: the mean probability of the ``resnet18`` runs over ``--seeds``.
- ``logistic_pixels``: logistic regression on the 784 pixels (scikit-learn), the in-run baseline the others are
  compared to (``auc_ratio``).

Reproducibility: the same seed, code, data, thread count and CPU give the same figures, bit for bit. Each run
seeds the weights (``set_determinism``), the augmentation (its own random state) and the batch order (its own
generator); torch's deterministic algorithms are on; and the thread count is fixed (``--threads``, default 2), as
a CPU convolution's sums, and so every later step, depend on how many threads split them. A different thread count
or a different CPU (instruction set) gives a different, equally valid, run: the JSON records both.

The MedMNIST v2 rows (Yang et al., Sci. Data 10:41, 2023, Table 4, BreastMNIST): ResNet-18 (28) AUC 0.901 ACC 0.863,
ResNet-18 (224) 0.891/0.833, ResNet-50 (28) 0.857/0.812, ResNet-50 (224) 0.866/0.842, auto-sklearn 0.836/0.803,
AutoKeras 0.871/0.831, Google AutoML Vision 0.919/0.861.

Usage::

    python benchmarks/bench_breastmnist.py [--npz ../shared/data/breastmnist/breastmnist.npz] [--epochs 60]
        [--seeds 0 1 2] [--threads 2] [--avg-down] [--select best_val|last]
        [--out benchmarks/results/bench_breastmnist.json]

``--select last``: the single model is the last epoch's (the one-cycle schedule's end, chosen on nothing) instead of
the epoch with the best ``val`` AUC; each run reports the other model's test figures beside it, never chosen by.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.networks.nets import ResNet
from monai.transforms import Compose, RandAffine, RandFlip
from monai.utils import set_determinism
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from monai_mammo.data import breastmnist_items
from monai_mammo.metrics import classification_report
from monai_mammo.networks.nets import use_avg_down
from monai_mammo.utils import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
MEDMNIST_TABLE = {
    "ResNet-18 (28)": {"auc": 0.901, "accuracy": 0.863},
    "ResNet-18 (224)": {"auc": 0.891, "accuracy": 0.833},
    "ResNet-50 (28)": {"auc": 0.857, "accuracy": 0.812},
    "ResNet-50 (224)": {"auc": 0.866, "accuracy": 0.842},
    "auto-sklearn": {"auc": 0.836, "accuracy": 0.803},
    "AutoKeras": {"auc": 0.871, "accuracy": 0.831},
    "Google AutoML Vision": {"auc": 0.919, "accuracy": 0.861},
}


def cpu_model() -> str:
    """The CPU's model name (Linux), part of what a run's figures depend on."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_splits(npz: Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``split -> (images (N, 1, 28, 28) float in [0, 1], labels (N,) with 1 = malignant)``."""
    splits = {}
    for split, items in breastmnist_items(npz).items():
        images = np.stack([np.asarray(item["image"], dtype=np.float32) / 255.0 for item in items])[:, None]
        labels = np.asarray([item["label"] for item in items])
        splits[split] = (torch.from_numpy(images), torch.from_numpy(labels))
    return splits


def resnet18_28(avg_down: bool = False) -> torch.nn.Module:
    """ResNet-18 for 28 x 28 inputs: 3x3 stride-1 stem, no max-pool (MedMNIST v2's and CIFAR's variant); with
    ``avg_down`` the downsampling shortcuts are ResNet-D's (:func:`~monai_mammo.networks.nets.use_avg_down`)."""
    model = ResNet(
        block="basic",
        layers=[2, 2, 2, 2],
        block_inplanes=[64, 128, 256, 512],
        spatial_dims=2,
        n_input_channels=1,
        conv1_t_size=3,
        conv1_t_stride=1,
        no_max_pool=True,
        num_classes=2,
    )
    return use_avg_down(model) if avg_down else model


def predict(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """P(malignant), averaged over the image and its horizontal flip."""
    model.eval()
    out = []
    with torch.no_grad():
        for batch in images.split(batch_size):
            logits = model(batch).softmax(1) + model(batch.flip(-1)).softmax(1)
            out.append((logits[:, 1] / 2).numpy())
    return np.concatenate(out)


def train_resnet(
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
    epochs: int,
    seed: int,
    batch_size: int,
    lr: float,
    avg_down: bool = False,
) -> dict[str, Any]:
    set_determinism(seed=seed, use_deterministic_algorithms=True)
    model = resnet18_28(avg_down)
    augment = Compose(
        [
            RandFlip(prob=0.5, spatial_axis=1),
            RandAffine(prob=0.8, rotate_range=0.2, scale_range=0.1, translate_range=2, padding_mode="border"),
        ]
    )
    augment.set_random_state(seed=seed)
    x_train, y_train = splits["train"]
    x_val, y_val = splits["val"]
    weights = (len(y_train) / (2 * torch.bincount(y_train, minlength=2).float())).clamp(max=10)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    steps = epochs * -(-len(y_train) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.15)
    generator = torch.Generator().manual_seed(seed)
    best = {"val_auc": -1.0, "epoch": 0, "state": None}
    history = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(y_train), generator=generator)
        for idx in order.split(batch_size):
            batch = torch.stack([torch.as_tensor(augment(x_train[i])) for i in idx.tolist()])
            loss = loss_fn(model(batch), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        val_auc = float(roc_auc_score(y_val.numpy(), predict(model, x_val)))
        history.append(round(val_auc, 4))
        if val_auc > best["val_auc"]:
            best = {"val_auc": val_auc, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
    last_model = copy.deepcopy(model)  # the end of the annealed schedule, chosen on nothing
    model.load_state_dict(best["state"])
    return {
        "model": model,
        "last_model": last_model,
        "best_epoch": best["epoch"],
        "val_auc": best["val_auc"],
        "val_auc_per_epoch": history,
        "seconds": round(time.perf_counter() - start, 1),
    }


def test_split_report(y: np.ndarray, score: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    report = classification_report(y, score, 2, class_names=["normal or benign", "malignant"], n_boot=n_boot, seed=seed)
    return {m: {"value": report["metrics"][m]["value"], "ci": report["metrics"][m]["ci"]} for m in ("auc", "accuracy")}


def mean_sd(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Mean and SD over the seeds of the runs' ``key`` report (AUC, accuracy)."""
    return {
        m: {
            "mean": float(np.mean([r[key][m]["value"] for r in runs])),
            "sd": float(np.std([r[key][m]["value"] for r in runs], ddof=1)) if len(runs) > 1 else None,
        }
        for m in ("auc", "accuracy")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--npz", type=Path, default=ROOT.parent / "shared" / "data" / "breastmnist" / "breastmnist.npz")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--avg-down", action="store_true", help="ResNet-D shortcuts (AvgDownConv)")
    parser.add_argument(
        "--select",
        choices=["best_val", "last"],
        default="best_val",
        help="the single model: the epoch with the best val AUC, or the last epoch (the schedule's end); the other "
        "is reported beside it, never chosen by",
    )
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the figures depend on it)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_breastmnist.json")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.deterministic = True  # oneDNN: no run-to-run variation for a given thread count
    splits = load_splits(args.npz)
    y_test = splits["test"][1].numpy()
    flat = {s: x.reshape(len(x), -1).numpy() for s, (x, _) in splits.items()}

    start = time.perf_counter()
    logistic = LogisticRegression(C=0.01, max_iter=2000, class_weight="balanced").fit(flat["train"], splits["train"][1])
    baseline = test_split_report(y_test, logistic.predict_proba(flat["test"])[:, 1], args.n_boot, 0)
    baseline["seconds"] = round(time.perf_counter() - start, 1)
    rows: dict[str, Any] = {"logistic_pixels": baseline}

    runs, scores = [], []
    for seed in args.seeds:
        run = train_resnet(splits, args.epochs, seed, args.batch_size, args.lr, args.avg_down)
        models = {"best_val": run.pop("model"), "last": run.pop("last_model")}
        other = "last" if args.select == "best_val" else "best_val"
        score = predict(models[args.select], splits["test"][0])
        scores.append(score)
        unselected = test_split_report(y_test, predict(models[other], splits["test"][0]), args.n_boot, seed)
        runs.append(
            {
                "seed": seed,
                **run,
                "selected": args.select,
                "test": test_split_report(y_test, score, args.n_boot, seed),
                f"test_{other}_epoch_model": unselected,  # reported, never chosen by
            }
        )
        print(f"seed {seed}: best epoch {run['best_epoch']} val AUC {run['val_auc']:.3f} test {runs[-1]['test']}")
    rows["resnet18"] = mean_sd(runs, "test")
    rows[f"resnet18_{other}_epoch_model"] = mean_sd(runs, f"test_{other}_epoch_model")
    ensemble = test_split_report(y_test, np.mean(scores, axis=0), args.n_boot, 0)
    ensemble["auc_ratio_to_logistic"] = round(ensemble["auc"]["value"] / baseline["auc"]["value"], 3)
    ensemble["beats_every_medmnist_row"] = all(
        ensemble["auc"]["value"] > ref["auc"] and ensemble["accuracy"]["value"] > ref["accuracy"]
        for ref in MEDMNIST_TABLE.values()
    )
    rows["ensemble"] = ensemble
    result = {
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"},
        "rows": rows,
        "runs": runs,
        "medmnist_v2_table": MEDMNIST_TABLE,
    }
    atomic_write_text(args.out, json.dumps(result, indent=1))
    print(json.dumps(rows, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
