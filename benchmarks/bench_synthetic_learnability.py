"""Is the synthetic data learnable from local cues, and not from global intensity statistics?

Trains the registered small CNN (``monai_mammo.networks.get_network("small_cnn_classifier", channels=(8, 16, 32,
64))``: four 3x3 conv-batch-norm-ReLU blocks with max pooling between them, global average pooling, a linear layer)
briefly (CPU) on synthetic images of seed 0 and tests it on fresh images of another seed;
trains a logistic regression on global intensity statistics (mean, std, percentiles, 32-bin histogram) on the
same images. The CNN should be well above chance, the statistics classifier near chance (1/3).

Usage::

    python benchmarks/bench_synthetic_learnability.py --modality MG US --threads 2

Writes ``benchmarks/results/bench_synthetic_learnability.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from monai_mammo.data.synthetic import SyntheticMammograms, SyntheticUltrasounds
from monai_mammo.networks import get_network
from monai_mammo.utils import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results" / "bench_synthetic_learnability.json"
CHANNELS = (8, 16, 32, 64)  # the registered small_cnn_classifier's blocks (3x3 conv, batch norm, ReLU, max pooling)


def make_images(modality: str, size: int, seed: int, count: int, **kwargs) -> tuple[np.ndarray, np.ndarray, float]:
    gen = SyntheticMammograms(size, seed=seed, **kwargs) if modality == "MG" else SyntheticUltrasounds(size, seed=seed)
    start = time.perf_counter()
    items = [gen[i] for i in range(count)]
    per_image = (time.perf_counter() - start) / count
    return np.stack([it.image for it in items]), np.array([it.label for it in items]), per_image


def global_features(images: np.ndarray) -> np.ndarray:
    flat = images.reshape(len(images), -1)
    percentiles = np.percentile(flat, [1, 5, 25, 50, 75, 95, 99], axis=1).T
    hist = np.stack([np.histogram(x, bins=32, range=(0, 1))[0] / x.size for x in flat])
    return np.concatenate([flat.mean(1, keepdims=True), flat.std(1, keepdims=True), percentiles, hist], 1)


def logistic_regression(x_train, y_train, x_test, weight_decay: float = 1e-3) -> np.ndarray:
    """Multinomial logistic regression on standardised features, fitted with L-BFGS (scikit-learn is not a dep)."""
    mean, std = x_train.mean(0), x_train.std(0) + 1e-8
    xt = torch.tensor((x_train - mean) / std, dtype=torch.float32)
    yt = torch.tensor(y_train)
    model = nn.Linear(xt.shape[1], 3)
    opt = torch.optim.LBFGS(model.parameters(), max_iter=500)

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt), yt) + weight_decay * model.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return model(torch.tensor((x_test - mean) / std, dtype=torch.float32)).argmax(1).numpy()


def train_cnn(x_train, y_train, x_test, epochs: int, seconds: float, batch: int = 32, seed: int = 0):
    torch.manual_seed(seed)
    model = get_network("small_cnn_classifier", num_classes=3, channels=CHANNELS)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    xt, yt = torch.tensor(x_train[:, None]), torch.tensor(y_train)
    rng = np.random.default_rng(seed)
    start, steps, done = time.perf_counter(), 0, 0
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * max(len(xt) // batch, 1))
    model.train()
    while done < epochs and time.perf_counter() - start < seconds:
        for idx in np.array_split(rng.permutation(len(xt)), max(len(xt) // batch, 1)):
            xb = xt[idx]
            if rng.random() < 0.5:
                xb = xb.flip(-1)
            if rng.random() < 0.5:
                xb = xb.flip(-2)
            loss = nn.functional.cross_entropy(model(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            steps += 1
            if time.perf_counter() - start > seconds:
                break
        done += 1
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(torch.tensor(x_test[i : i + 128, None])).argmax(1) for i in range(0, len(x_test), 128)])
    return pred.numpy(), {"train_seconds": round(time.perf_counter() - start, 1), "steps": steps, "epochs": done}


def accuracy_ci(y_true, y_pred, n_boot: int = 2000, seed: int = 0) -> dict:
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(float)
    rng = np.random.default_rng(seed)
    boots = correct[rng.integers(0, len(correct), (n_boot, len(correct)))].mean(1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"accuracy": round(float(correct.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def run(modality: str, size: int, n_train: int, n_test: int, epochs: int, seconds: float, **kwargs) -> dict:
    x_train, y_train, per_image = make_images(modality, size, seed=0, count=n_train, **kwargs)
    x_test, y_test, _ = make_images(modality, size, seed=12345, count=n_test, **kwargs)
    stats_pred = logistic_regression(global_features(x_train), y_train, global_features(x_test))
    cnn_pred, info = train_cnn(x_train, y_train, x_test, epochs, seconds)
    return {
        "image_size": size,
        "train_images": n_train,
        "test_images": n_test,
        "generation_ms_per_image": round(per_image * 1000, 2),
        "cnn": {**accuracy_ci(y_test, cnn_pred), **info},
        "global_statistics_logreg": accuracy_ci(y_test, stats_pred),
        "chance": round(1 / 3, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modality", nargs="+", default=["MG", "US"], choices=["MG", "US"])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--train", type=int, default=1500, help="training images (seed 0)")
    parser.add_argument("--test", type=int, default=450, help="test images (seed 12345)")
    parser.add_argument("--epochs", type=int, default=12, help="CNN training epochs per modality")
    parser.add_argument("--seconds", type=float, default=480, help="CNN training time limit per modality")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lesion-contrast", type=float, nargs=2, default=None, help="mammogram lesion contrast range")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    command = (
        "python benchmarks/bench_synthetic_learnability.py "
        + f"--modality {' '.join(args.modality)} --size {args.size} --train {args.train} --test {args.test} "
        + f"--epochs {args.epochs} --seconds {args.seconds:g} --threads {args.threads}"
        + (
            f" --lesion-contrast {args.lesion_contrast[0]:g} {args.lesion_contrast[1]:g}"
            if args.lesion_contrast
            else ""
        )
    )
    # a run of some modalities keeps the other modalities' entries of an earlier run in the same file
    results = json.loads(args.output.read_text()) if args.output.is_file() else {}
    results.pop("command", None)
    results.pop("load_average_at_start", None)
    results["network"] = {"name": "small_cnn_classifier", "channels": list(CHANNELS)}
    results["machine"] = {
        "cpu_threads": args.threads,
        "cpus": os.cpu_count(),
        "gpu": None,
        "platform": platform.platform(),
        "torch": torch.__version__,
    }
    for modality in args.modality:
        kwargs = {"lesion_contrast": args.lesion_contrast} if args.lesion_contrast and modality == "MG" else {}
        load = [round(x, 1) for x in os.getloadavg()]
        results[modality] = run(modality, args.size, args.train, args.test, args.epochs, args.seconds, **kwargs)
        results[modality].update(command=command, load_average_at_start=load)
        print(modality, json.dumps(results[modality], indent=1))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.output, json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
