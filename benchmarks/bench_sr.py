"""Benchmark: the ``mammo_srgan`` bundle against bicubic, PSNR and SSIM inside the breast, on MIAS women held out.

Everything runs through the product: the datalist is ``python -m monai_mammo prepare mias`` (a test part of
``--test-fraction`` of the women and 5 folds of the rest, grouped by woman, seeded), the model is trained by the
bundle's ``training`` (``bundles/mammo_srgan/configs/train.yaml``: generator pretraining with pixel MSE, then the GAN
phase; the best epoch by validation PSNR on fold 0 goes to ``models/model.pt``) and evaluated by its
``evaluating`` overlay (``evaluate.yaml``) on the test women, whose :class:`~monai_mammo.engines.SREvaluator`
measures the model and bicubic upsampling of the same LR input in the same run. Two regions:

- ``breast``: the bundle's own metric mask (the breast mask of ``CropBreastd`` without ``metric_border`` =
  2 x scale pixels along the image edges);
- ``interior``: the breast mask eroded by ``interior_margin`` pixels (``benchmarks/configs/mammo_srgan_interior.yaml``,
  an overlay of the bundle's ``metric_transforms``): no skin line, no chest-wall border of the crop, where
  bicubic's border handling dominates the error.

Three generators per scale, from one training run of ``--pretrain-epochs`` + ``--gan-epochs`` epochs:

- ``srresnet_mse``: the bundle's ``models/model.pt`` as it stands after the pretraining epochs (the best validation
  PSNR so far; the same file as a run with ``--gan_epochs 0``);
- ``bundle_model``: the bundle's ``models/model.pt`` at the end (the best validation PSNR of all epochs): what a user
  of the bundle gets;
- ``srgan_last_epoch``: the generator after the last GAN epoch (the bundle keeps only the best one, so the benchmark
  saves this one with :func:`~monai_mammo.networks.save_network_state` at the end of the run);
- with ``--self-ensemble``, ``bundle_model_self_ensemble``: the bundle's model evaluated with ``self_ensemble true``
  (the mean over 8 rotations and flips of each input, EDSR+).

With ``--gan-epochs 0`` the first two are one file, evaluated once as ``bundle_model``. ``--set KEY=VALUE`` passes
more bundle settings to training and evaluation; the full-resolution run of the results page::

    python benchmarks/bench_sr.py --scales 2 --image-size 1024 --pretrain-epochs 160 --gan-epochs 0 --self-ensemble \
        --set keep_resolution=true g_norm=none pixel_criterion=l1 val_interval=40 \
        --out benchmarks/results/bench_sr_fullres_x2.json

Per-image values are kept to give the PSNR / SSIM gain over bicubic a 95% bootstrap interval that resamples women
(:func:`~monai_mammo.metrics.bootstrap_ci`).

Usage::

    python benchmarks/bench_sr.py --scales 2 --out benchmarks/results/bench_sr_x2.json
        [--mias-dir ../shared/data/mini-mias] [--pretrain-epochs 4] [--gan-epochs 2] [--threads 1]
        [--work-dir /tmp/bench_sr]

It prints the equivalent bundle commands; models and logs stay in ``--work-dir`` (never in the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Events
from monai.bundle import ConfigWorkflow

from monai_mammo.engines.utils import SRKeys
from monai_mammo.metrics import bootstrap_ci
from monai_mammo.networks import save_network_state
from monai_mammo.utils import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "bundles" / "mammo_srgan" / "configs"
TRAIN, EVALUATE, META = CONFIGS / "train.yaml", CONFIGS / "evaluate.yaml", CONFIGS / "metadata.json"
INTERIOR = ROOT / "benchmarks" / "configs" / "mammo_srgan_interior.yaml"
MSE_MODEL, LAST_MODEL = "model_after_pretraining.pt", "model_last_epoch.pt"  # kept by the benchmark in run_dir
VALUES = (SRKeys.PSNR.value, SRKeys.SSIM.value, SRKeys.PSNR_BASELINE.value, SRKeys.SSIM_BASELINE.value)


def prepare_datalist(mias_dir: Path, out: Path, test_fraction: float, seed: int) -> Path:
    """The MIAS datalist by the product's CLI: test women held out, 5 folds of the others, grouped by woman."""
    cmd = [sys.executable, "-m", "monai_mammo", "prepare", "mias", str(mias_dir), "-o", str(out), "--absolute"]
    cmd += ["--test-fraction", str(test_fraction), "--seed", str(seed)]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return out


def cli(config_files: list[Path], run_id: str, overrides: dict[str, Any]) -> str:
    """The ``python -m monai.bundle run`` command equivalent to a workflow run (relative paths, for the docs)."""
    files = ",".join(f"'{p.relative_to(ROOT)}'" for p in config_files)
    files = f'"[{files}]"' if len(config_files) > 1 else str(config_files[0].relative_to(ROOT))
    args = " ".join(f"--{k} {shlex.quote(v if isinstance(v, str) else json.dumps(v))}" for k, v in overrides.items())
    return f"python -m monai.bundle run {run_id} --config_file {files} {args}"


def parse_settings(parser: argparse.ArgumentParser, items: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` as a dict, the values as JSON where they parse (``true``, ``10``), else text."""
    settings: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            parser.error(f"--set takes KEY=VALUE pairs, got {item!r}")
        try:
            settings[key] = json.loads(text)
        except json.JSONDecodeError:
            settings[key] = text
    return settings


def collect_per_image(evaluator: Any, records: list[dict[str, Any]]) -> None:
    """Keep the evaluator's per-image values (and the woman) of every iteration in ``records``."""

    def _keep(engine: Any) -> None:
        out, batch = engine.state.output, engine.state.batch
        for i, woman in enumerate(batch["patient_id"]):
            records.append({"patient_id": str(woman), **{k: float(out[k][i]) for k in VALUES}})

    evaluator.add_event_handler(Events.ITERATION_COMPLETED, _keep)


def evaluate(common: dict[str, Any], model: Path, region: str) -> dict[str, Any]:
    """The bundle's ``evaluating`` of ``model`` on the test women in ``region``; means, gains and their CIs."""
    files = [TRAIN, EVALUATE] + ([INTERIOR] if region == "interior" else [])
    overrides = {**common, "best_model_path": str(model)}
    workflow = ConfigWorkflow(
        config_file=[str(f) for f in files],
        meta_file=str(META),
        run_id="evaluating",
        workflow_type=None,
        logging_file=False,
        **overrides,
    )
    workflow.initialize()
    evaluator = workflow.parser.get_parsed_content("validate#evaluator")
    records: list[dict[str, Any]] = []
    collect_per_image(evaluator, records)
    workflow.run()
    metrics = {k: float(v) for k, v in evaluator.state.metrics.items()}
    workflow.finalize()
    kept = [r for r in records if all(np.isfinite(r[k]) for k in VALUES)]  # an empty region gives NaN
    table = {k: np.asarray([r[k] for r in kept]) for k in VALUES}
    women = [r["patient_id"] for r in kept]
    out: dict[str, Any] = {
        "bundle_metrics": metrics,
        "images": len(kept),
        "images_without_region": len(records) - len(kept),
        "women": len(set(women)),
    }
    for name in ("psnr", "ssim"):
        model_values, bicubic = table[name], table[f"{name}_bicubic"]
        gain = bootstrap_ci(lambda a, b: float(np.mean(a - b)), model_values, bicubic, n_boot=2000, groups=women)
        out[name] = float(model_values.mean())
        out[f"{name}_bicubic"] = float(bicubic.mean())
        out["psnr_gain_db" if name == "psnr" else "ssim_gain"] = {"value": gain.value, "ci": [gain.low, gain.high]}
    out["command"] = cli(files, "evaluating", overrides)
    return out


def train(scale: int, args: argparse.Namespace, overrides: dict[str, Any], result: dict[str, Any]) -> None:
    """The bundle's ``training``; keeps ``model.pt`` after the pretraining epochs and the last generator."""
    run_dir = Path(overrides["run_dir"])
    workflow = ConfigWorkflow(
        config_file=str(TRAIN), meta_file=str(META), run_id="training", logging_file=False, **overrides
    )
    workflow.initialize()
    trainer = workflow.parser.get_parsed_content("train#trainer")
    evaluator = workflow.parser.get_parsed_content("validate#evaluator")
    result["train_images"] = len(workflow.parser.get_parsed_content("data")["train"])
    result["val_images"] = len(workflow.parser.get_parsed_content("data")["val"])
    result["iterations_per_epoch"] = len(workflow.parser.get_parsed_content("train#dataloader"))
    ckpt_dir = Path(workflow.parser.get_parsed_content("ckpt_dir"))
    network = workflow.parser.get_parsed_content("network")
    mse_model, last_model = run_dir / MSE_MODEL, run_dir / LAST_MODEL
    validation: list[dict[str, float]] = []
    t0 = time.perf_counter()

    def _after_epoch(engine: Any) -> None:  # after the bundle's own validation and best-model saving
        validation.append({"epoch": engine.state.epoch, **{k: float(v) for k, v in evaluator.state.metrics.items()}})
        print(f"x{scale} epoch {engine.state.epoch}: {validation[-1]}, {time.perf_counter() - t0:.0f} s", flush=True)
        if engine.state.epoch == args.pretrain_epochs:
            shutil.copyfile(ckpt_dir / "model.pt", mse_model)
            result["seconds_pretraining"] = round(time.perf_counter() - t0, 1)
        if engine.state.epoch == engine.state.max_epochs:  # the bundle keeps only the best generator: keep the last
            save_network_state(network, last_model)

    trainer.add_event_handler(Events.EPOCH_COMPLETED, _after_epoch)
    workflow.run()
    workflow.finalize()
    result["seconds_training"] = round(time.perf_counter() - t0, 1)
    result["validation_per_epoch"] = validation
    result["best_validation_epoch"] = int(evaluator.state.best_metric_epoch)
    atomic_write_text(run_dir / "training.json", json.dumps(result, indent=2))


def run_scale(args: argparse.Namespace, scale: int, datalist: Path) -> dict[str, Any]:
    run_dir = args.work_dir / f"x{scale}"
    if run_dir.exists() and not args.skip_training:
        shutil.rmtree(run_dir)  # a fresh run, not a resumed one
    common: dict[str, Any] = {
        "datalist": str(datalist),
        "run_dir": str(run_dir),
        "scale_factor": scale,
        "image_size": args.image_size,
        "seed": args.seed,
        **args.set,  # bundle settings of both training and evaluation (e.g. keep_resolution, g_norm, self_ensemble)
    }
    train_overrides = {**common, "pretrain_epochs": args.pretrain_epochs, "gan_epochs": args.gan_epochs}
    train_overrides.update({k: v for k, v in (("g_blocks", args.g_blocks), ("g_channels", args.g_channels)) if v})
    if args.g_blocks or args.g_channels:  # the evaluation's network must match
        common.update({k: v for k, v in (("g_blocks", args.g_blocks), ("g_channels", args.g_channels)) if v})
    result: dict[str, Any] = {"scale": scale, "train_command": cli([TRAIN], "training", train_overrides)}
    print("$", result["train_command"], flush=True)
    if args.skip_training:  # evaluate the models of an earlier run in --work-dir
        result.update(json.loads((run_dir / "training.json").read_text()))
    else:
        train(scale, args, train_overrides, result)
    t_eval = time.perf_counter()
    ckpt_dir = run_dir / "models"  # the bundle's ckpt_dir under run_dir
    mse_model, last_model = run_dir / MSE_MODEL, run_dir / LAST_MODEL
    models = {"bundle_model": ckpt_dir / "model.pt"}
    if args.gan_epochs:  # without GAN epochs the model after pretraining is the bundle's model
        models = {"srresnet_mse": mse_model, **models, "srgan_last_epoch": last_model}
    runs = [(name, path, common) for name, path in models.items()]
    if args.self_ensemble:  # the bundle's model once more, each LR input seen in 8 rotations and flips
        runs.append(("bundle_model_self_ensemble", ckpt_dir / "model.pt", {**common, "self_ensemble": True}))
    for name, path, settings in runs:
        result[name] = {region: evaluate(settings, path, region) for region in ("breast", "interior")}
        summary = {
            r: (round(v["psnr_gain_db"]["value"], 3), [round(c, 3) for c in v["psnr_gain_db"]["ci"]])
            for r, v in result[name].items()
        }
        print(f"x{scale} {name}: PSNR gain over bicubic {summary}", flush=True)
    result["seconds_evaluation"] = round(time.perf_counter() - t_eval, 1)
    result["seconds_total"] = round(result.get("seconds_training", 0.0) + result["seconds_evaluation"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mias-dir", type=Path, default=ROOT.parent / "shared" / "data" / "mini-mias")
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--image-size", type=int, default=512, help="the bundle's image_size (HR side)")
    parser.add_argument("--pretrain-epochs", type=int, default=4, help="the bundle's pretrain_epochs")
    parser.add_argument("--gan-epochs", type=int, default=2, help="the bundle's gan_epochs")
    parser.add_argument("--g-blocks", type=int, default=None, help="the bundle's g_blocks (default: the bundle's)")
    parser.add_argument("--g-channels", type=int, default=None, help="the bundle's g_channels (default: the bundle's)")
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="more bundle settings for training and evaluation, e.g. keep_resolution=true g_norm=none "
        "pixel_criterion=l1 self_ensemble=true val_interval=10 (values as JSON where they parse, else text)",
    )
    parser.add_argument(
        "--self-ensemble", action="store_true", help="also evaluate the bundle's model with self_ensemble true"
    )
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of women held out as the test part")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of the bundle")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--skip-training", action="store_true", help="evaluate the models already in --work-dir")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/bench_sr"), help="datalist, models, logs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_sr.json")
    args = parser.parse_args()
    args.set = parse_settings(parser, args.set)
    torch.set_num_threads(args.threads)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    datalist = prepare_datalist(args.mias_dir, args.work_dir / "mias.json", args.test_fraction, args.seed)
    items = json.loads(datalist.read_text())
    report: dict[str, Any] = {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "datalist_command": f"python -m monai_mammo prepare mias {args.mias_dir} -o mias.json --absolute "
        f"--test-fraction {args.test_fraction} --seed {args.seed}",
        "data": {
            "training_images": len(items["training"]),
            "test_images": len(items["test"]),
            "test_women": sorted({i["patient_id"] for i in items["test"]}),
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
            "platform": platform.platform(),
            "torch": torch.__version__,
        },
        "results": [],
    }
    for scale in args.scales:
        report["results"].append(run_scale(args, scale, datalist))
        atomic_write_text(args.out, json.dumps(report, indent=2))
    report["seconds_total"] = round(time.perf_counter() - t0, 1)
    atomic_write_text(args.out, json.dumps(report, indent=2))
    print(json.dumps(report["results"], indent=2))


if __name__ == "__main__":
    main()
