"""Experiment: does cross-dimensional transfer (Inbaraj et al., 2025) help ultrasound with few labels?

Target ultrasound: the shared BUSI part (exact and near-exact duplicates removed) at 64x64, and BreastMNIST's
official split (28x28). Source mammography: the shared mini-MIAS part plus synthetic mammograms. For 10%, 25% and
100% of the target's training labels (chosen by :func:`monai_mammo.data.limited_label_subset`), three methods:

- ``us_only``: the network trained on the target labels only;
- ``plain_ft``: plain transfer: the same network without modality-specific parts trained on mammography, then
  all of it fine-tuned on the target;
- ``cross_dim``: the three phases: pretraining on mixed data (balanced, sum of per-modality losses), fine-tuning
  per modality, interpolation ``w' = a w + (1 - a) w_cross`` with ``a`` chosen on validation data.

Every fine-tuning keeps the epoch with the best validation AUC; ``a`` is chosen on validation data; the test
split is only predicted once per run. Metrics on the test split: accuracy, sensitivity, precision, F1, AUC (the
positive class is malignant for BreastMNIST; the macro mean over normal/benign/malignant for BUSI), the mean
over seeds with a 95% percentile-bootstrap interval over the test cases of that mean, and the SD over seeds.

Run:  python benchmarks/bench_cross_transfer.py [--quick] [--datasets busi breastmnist] [--threads 1]
Writes benchmarks/results/bench_cross_transfer.json (figures only) and prints a Markdown table. The published
results ran the two datasets side by side and merged them:
    python benchmarks/bench_cross_transfer.py --datasets busi --out /tmp/busi.json &
    python benchmarks/bench_cross_transfer.py --datasets breastmnist --out /tmp/bmnist.json
    python benchmarks/bench_cross_transfer.py --merge /tmp/busi.json /tmp/bmnist.json
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from monai.data import Dataset
from monai.engines import SupervisedEvaluator
from monai.handlers import LrScheduleHandler, from_engine
from monai.transforms import Activationsd
from PIL import Image
from torch.utils.data import DataLoader, RandomSampler

from monai_mammo.data import ModalityBalancedSampler, limited_label_subset
from monai_mammo.data.synthetic.mammography import SyntheticMammograms
from monai_mammo.engines import CrossModalTrainer, CrossModalTransfer, ModalityPrepareBatch
from monai_mammo.metrics import ClassificationMetrics, bootstrap_ci, classification_metrics
from monai_mammo.networks import BatchNormMode
from monai_mammo.networks.nets import CrossDimensionalClassifier
from monai_mammo.optimizers import inverse_time_scheduler

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
METRICS = ("accuracy", "sensitivity", "precision", "f1", "auc")
METHODS = ("us_only", "plain_ft", "cross_dim")


def zscore(images: np.ndarray) -> np.ndarray:
    """Per-image z-score normalisation (SPEC), (N, H, W) -> (N, 1, H, W) float32."""
    x = images.astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True) + 1e-6
    return ((x - mean) / std)[:, None]


def resize(img: Image.Image, size: int) -> np.ndarray:
    return np.asarray(img.convert("L").resize((size, size), Image.Resampling.BOX), dtype=np.float32)


def load_busi(size: int) -> tuple[dict[str, list[dict]], dict]:
    """BUSI images (masks skipped), duplicates removed, stratified 60/20/20 split fixed by seed 0."""
    names = {"normal": 0, "benign": 1, "malignant": 2}
    raw = []
    for cls, label in names.items():
        for path in sorted((DATA / "busi" / cls).glob("*.png")):
            if "_mask" in path.name:
                continue
            with Image.open(path) as img:
                thumb = resize(img, 32)
                raw.append({"path": path.name, "label": label, "image": resize(img, size), "thumb": thumb})
    # duplicates: BUSI holds repeated scans (the same image saved twice, sometimes under two classes). Two images
    # are copies when their 32x32 thumbnails differ by < 15 grey levels on average (checked by eye on the shared
    # part: every pair below is a copy, none above). Copies are grouped (connected components); a group keeps one
    # image, and is dropped whole when its copies disagree on the class.
    thumbs = np.stack([it["thumb"].reshape(-1) for it in raw])
    near = np.abs(thumbs[:, None] - thumbs[None]).mean(-1) < 15.0
    parent = list(range(len(raw)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(near, 1)), strict=True):
        parent[root(int(j))] = root(int(i))
    groups: dict[int, list[int]] = {}
    for i in range(len(raw)):
        groups.setdefault(root(i), []).append(i)
    keep, dropped, conflicts = [], 0, 0
    for members in groups.values():
        if len({raw[i]["label"] for i in members}) > 1:
            conflicts += len(members)
            continue
        keep.append(raw[members[0]])
        dropped += len(members) - 1
    rng = np.random.default_rng(0)
    split: dict[str, list[dict]] = {"train": [], "val": [], "test": []}
    for label in names.values():
        group = [it for it in keep if it["label"] == label]
        order = rng.permutation(len(group))
        n_test, n_val = round(0.2 * len(group)), round(0.2 * len(group))
        for k, j in enumerate(order):
            part = "test" if k < n_test else "val" if k < n_test + n_val else "train"
            it = group[j]
            split[part].append({"image": it["image"], "label": it["label"], "patient_id": it["path"]})
    info = {
        "images": len(raw),
        "duplicate_copies_dropped": dropped,
        "images_in_groups_with_conflicting_labels_dropped": conflicts,
        "images_kept": len(keep),
    }
    return split, info


def load_breastmnist() -> tuple[dict[str, list[dict]], dict]:
    """BreastMNIST's official split; labels flipped so that malignant = 1 (the positive class)."""
    npz = np.load(DATA / "breastmnist" / "breastmnist.npz")
    split = {}
    for part in ("train", "val", "test"):
        images, labels = npz[f"{part}_images"], 1 - npz[f"{part}_labels"].reshape(-1).astype(int)
        split[part] = [
            {"image": im.astype(np.float32), "label": int(y), "patient_id": f"{part}{i}"}
            for i, (im, y) in enumerate(zip(images, labels, strict=True))
        ]
    return split, {"md5": hashlib.md5((DATA / "breastmnist" / "breastmnist.npz").read_bytes()).hexdigest()}


def load_mammography(size: int, num_synthetic: int, binary: bool) -> list[dict]:
    """mini-MIAS (image label: normal, else the worst severity) plus synthetic mammograms, at ``size``."""
    worst: dict[str, int] = {}
    for line in (DATA / "mini-mias" / "Info.txt").read_text(errors="ignore").splitlines():
        parts = line.split()
        if not parts or not parts[0].startswith("mdb") or len(parts) < 3:
            continue
        label = 0 if parts[2] == "NORM" else 2 if len(parts) > 3 and parts[3] == "M" else 1
        worst[parts[0]] = max(worst.get(parts[0], 0), label)
    items = []
    for ref, label in sorted(worst.items()):
        path = DATA / "mini-mias" / f"{ref}.png"
        if path.is_file():
            with Image.open(path) as img:
                items.append({"image": resize(img, size), "label": label})
    gen = SyntheticMammograms(image_size=128, seed=0, markers=False)
    for i in range(num_synthetic):
        s = gen[i]
        items.append({"image": resize(Image.fromarray((s.image * 255).astype(np.uint8)), size), "label": s.label})
    if binary:  # BreastMNIST's task: malignant vs the rest
        for it in items:
            it["label"] = int(it["label"] == 2)
    return items


def to_items(items: list[dict], modality: str) -> list[dict]:
    images = zscore(np.stack([it["image"] for it in items]))
    return [
        {
            "image": torch.from_numpy(im),
            "label": int(it["label"]),
            "modality": modality,
            "patient_id": str(it.get("patient_id") or ""),
        }
        for im, it in zip(images, items, strict=True)
    ]


def make_net(num_classes: dict, cfg: dict, cross: bool) -> CrossDimensionalClassifier:
    return CrossDimensionalClassifier(
        "small_cnn_classifier",
        backbone_kwargs={"channels": cfg["channels"]},
        num_classes=num_classes,
        modalities=("MG", "US"),
        modality_norm=cross,
        adapter=cross,
        dropout=0.2,
    )


def evaluator_for(net, items, num_classes: int, cfg: dict) -> SupervisedEvaluator:
    return SupervisedEvaluator(
        device=torch.device("cpu"),
        val_data_loader=DataLoader(Dataset(items), batch_size=128),
        network=net,
        prepare_batch=ModalityPrepareBatch(),
        postprocessing=Activationsd("pred", softmax=True),
        key_val_metric={
            "val_auc": ClassificationMetrics(num_classes, "auc", output_transform=from_engine(["pred", "label"]))
        },
    )


def train(net, items, epochs: int, cfg: dict, seed: int, val=None, num_classes=None, balanced=False) -> None:
    """One phase; with ``val`` items the weights of the epoch with the best validation AUC are kept."""
    torch.manual_seed(seed)
    if balanced:
        sampler = ModalityBalancedSampler([it["modality"] for it in items], cfg["pretrain_per_modality"], seed=seed)
    else:
        n = max(len(items), cfg["min_samples_per_epoch"])
        sampler = RandomSampler(
            items, replacement=n > len(items), num_samples=n, generator=torch.Generator().manual_seed(seed)
        )
    loader = DataLoader(Dataset(items), batch_size=cfg["batch_size"], sampler=sampler)
    opt = torch.optim.Adam(net.parameters(), cfg["lr0"], weight_decay=1e-4)
    trainer = CrossModalTrainer(
        device=torch.device("cpu"), max_epochs=epochs, train_data_loader=loader, network=net, optimizer=opt
    )
    LrScheduleHandler(inverse_time_scheduler(opt, cfg["beta"]), print_lr=False).attach(trainer)
    if val is not None:
        evaluator = evaluator_for(net, val, num_classes, cfg)
        best = {"auc": -1.0, "state": None}

        def validate(engine) -> None:
            evaluator.run()
            auc = evaluator.state.metrics["val_auc"]
            if auc > best["auc"]:
                best.update(auc=auc, state=copy.deepcopy(net.state_dict()))

        from ignite.engine import Events

        trainer.add_event_handler(Events.EPOCH_COMPLETED, validate)
    trainer.run()
    if val is not None and best["state"] is not None:
        net.load_state_dict(best["state"])


@torch.no_grad()
def predict(net, items) -> np.ndarray:
    net.eval()
    x = torch.stack([it["image"] for it in items])
    return torch.softmax(net(x, "US"), dim=1).numpy()


def run_method(method, data, mg, num_classes, cfg, seed, fraction, cache) -> np.ndarray:
    us_train = limited_label_subset(data["train"], fraction, seed=seed)
    classes = {"MG": 2 if num_classes == 2 else 3, "US": num_classes}
    if method == "us_only":
        torch.manual_seed(seed)
        net = make_net(classes, cfg, cross=True)
        train(net, us_train, cfg["finetune_epochs"], cfg, seed, val=data["val"], num_classes=num_classes)
    elif method == "plain_ft":
        if ("plain", seed) not in cache:  # the mammography model does not depend on the target fraction
            torch.manual_seed(seed)
            net = make_net(classes, cfg, cross=False)
            train(net, mg, cfg["pretrain_epochs"], cfg, seed)
            cache["plain", seed] = copy.deepcopy(net.state_dict())
        net = make_net(classes, cfg, cross=False)
        net.load_state_dict(cache["plain", seed])
        train(net, us_train, cfg["finetune_epochs"], cfg, seed, val=data["val"], num_classes=num_classes)
    else:
        torch.manual_seed(seed)
        net = make_net(classes, cfg, cross=True)
        train(net, mg + us_train, cfg["pretrain_epochs"], cfg, seed, balanced=True)  # phase 1
        pretrained = copy.deepcopy(net.state_dict())
        train(net, us_train, cfg["finetune_epochs"], cfg, seed, val=data["val"], num_classes=num_classes)  # phase 2
        w_target = copy.deepcopy(net.state_dict())
        net.load_state_dict(pretrained)
        train(net, mg, cfg["source_finetune_epochs"], cfg, seed)  # phase 2, the source modality
        w_cross = copy.deepcopy(net.state_dict())
        transfer = CrossModalTransfer(  # phase 3
            net,
            w_target,
            w_cross,
            evaluator_for(net, data["val"], num_classes, cfg),
            alphas=cfg["alphas"],
            bn_mode=BatchNormMode.RECOMPUTE,
            bn_loader=DataLoader(Dataset(us_train), batch_size=64),
        )
        transfer.run()
        cache.setdefault("alpha", []).append(transfer.state.metrics["alpha"])
    return predict(net, data["test"])


def summarise(y: np.ndarray, probs: list[np.ndarray], num_classes: int, n_boot: int) -> dict:
    out = {}
    for name in METRICS:

        def mean_metric(y_, *ps, name=name):
            return float(np.mean([classification_metrics(y_, p, num_classes)[name] for p in ps]))

        per_seed = [classification_metrics(y, p, num_classes)[name] for p in probs]
        ci = bootstrap_ci(mean_metric, y, *probs, n_boot=n_boot, seed=0)
        out[name] = {
            "mean": ci.value,
            "ci": [ci.low, ci.high],
            "sd_over_seeds": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0,
            "per_seed": [float(v) for v in per_seed],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings, to check the script")
    parser.add_argument("--datasets", nargs="+", default=["busi", "breastmnist"], choices=["busi", "breastmnist"])
    parser.add_argument("--merge", nargs="+", help="JSON files of runs on separate datasets to merge into --out")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_cross_transfer.json"))
    args = parser.parse_args()
    if args.merge:
        parts = [json.loads(Path(p).read_text()) for p in args.merge]
        merged = {**parts[0], "datasets": {k: v for p in parts for k, v in p["datasets"].items()}}
        merged["total_seconds"] = {
            p_name: part["total_seconds"] for p_name, part in zip(args.merge, parts, strict=True)
        }
        merged.pop("partial", None)
        Path(args.out).write_text(json.dumps(merged, indent=1))
        print(markdown(merged))
        return
    torch.set_num_threads(args.threads)
    cfg = {
        "channels": (16, 32, 64),
        "batch_size": 32,
        "lr0": 1e-3,
        "beta": 0.1,
        "pretrain_epochs": 10,
        "finetune_epochs": 12,
        "source_finetune_epochs": 4,
        "pretrain_per_modality": 192,
        "min_samples_per_epoch": 64,
        "alphas": [round(a, 2) for a in np.linspace(0, 1, 11)],
        "num_synthetic_mg": 300,
        "seeds": [0, 1, 2],
        "fractions": [0.1, 0.25, 1.0],
        "n_boot": 1000,
        "busi_size": 64,
    }
    if args.quick:
        cfg.update(
            pretrain_epochs=1,
            finetune_epochs=1,
            source_finetune_epochs=1,
            seeds=[0, 1],
            fractions=[0.25],
            num_synthetic_mg=12,
            n_boot=50,
            alphas=[0.0, 0.5, 1.0],
            pretrain_per_modality=32,
        )
    t0 = time.time()
    results: dict = {"settings": cfg, "datasets": {}, "platform": platform.platform(), "torch": torch.__version__}
    for dataset in args.datasets:
        t_data = time.time()
        if dataset == "busi":
            split, info = load_busi(cfg["busi_size"])
            size, num_classes = cfg["busi_size"], 3
        else:
            split, info = load_breastmnist()
            size, num_classes = 28, 2
        data = {k: to_items(v, "US") for k, v in split.items()}
        mg = to_items(load_mammography(size, cfg["num_synthetic_mg"], binary=num_classes == 2), "MG")
        info.update({k: len(v) for k, v in data.items()}, mammography=len(mg), image_size=size)
        y = np.array([it["label"] for it in data["test"]])
        entry: dict = {"info": info, "results": {}}
        print(dataset, info, f"loaded in {time.time() - t_data:.0f}s", flush=True)
        cache: dict = {}
        for fraction in cfg["fractions"]:
            n_labels = len(limited_label_subset(data["train"], fraction, seed=0))
            for method in METHODS:
                t = time.time()
                cache.pop("alpha", None)
                probs = [run_method(method, data, mg, num_classes, cfg, s, fraction, cache) for s in cfg["seeds"]]
                summary = summarise(y, probs, num_classes, cfg["n_boot"])
                summary["seconds"] = round(time.time() - t, 1)
                summary["target_train_labels"] = n_labels
                if method == "cross_dim":
                    summary["alpha_per_seed"] = cache.get("alpha", [])
                entry["results"][f"{method}@{fraction}"] = summary
                print(
                    dataset,
                    fraction,
                    method,
                    {m: round(summary[m]["mean"], 3) for m in METRICS},
                    f"{summary['seconds']}s",
                    flush=True,
                )
        results["datasets"][dataset] = entry
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({**results, "partial": True}, indent=1))  # in case of a stop
    results["total_seconds"] = round(time.time() - t0, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(markdown(results))


def markdown(results: dict) -> str:
    lines = []
    for dataset, entry in results["datasets"].items():
        lines += [
            f"### {dataset}",
            "",
            "| labels | method | " + " | ".join(METRICS) + " |",
            "|---|---|" + "---|" * len(METRICS),
        ]
        for key, r in entry["results"].items():
            method, fraction = key.split("@")
            cells = [
                f"{r[m]['mean']:.3f} [{r[m]['ci'][0]:.3f}, {r[m]['ci'][1]:.3f}] ±{r[m]['sd_over_seeds']:.3f}"
                for m in METRICS
            ]
            lines.append(
                f"| {float(fraction):.0%} ({r['target_train_labels']}) | {method} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
