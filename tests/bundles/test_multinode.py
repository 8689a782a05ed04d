"""Multi-node torchrun on one machine: two launches on 127.0.0.1 act as two nodes (c10d rendezvous, gloo).

One tiny training of the mammo_stn_classifier bundle with ``multi_gpu_train.yaml`` runs twice with the same global
batch (2 processes x ``batch_size``): once as one node with two processes (``--standalone --nproc_per_node=2``), once
as two nodes of one process each (``--nnodes=2 --rdzv_backend=c10d --rdzv_endpoint=127.0.0.1:PORT``), both nodes
writing to one run folder as they would on a shared filesystem. Rank 0 must end with the same model, bit for bit,
and the same test report.
The procedure is the one of ``docs/source/multinode.md``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import torch

from monai_mammo.data import ensure_dataset

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "bundles" / "mammo_stn_classifier" / "configs"
CONFIG = "[" + ",".join(repr(str(CONFIGS / f"{name}.yaml")) for name in ("train", "multi_gpu_train")) + "]"
# tiny settings of tests/bundles/test_mammo_stn_classifier.py; 2 epochs
TINY = {
    "image_size": 32,
    "batch_size": 4,
    "sr_channels": 4,
    "sr_blocks": 1,
    "stn_sampler": "bilinear",
    "num_threads": 1,
    "n_boot": 20,
    "epochs": 2,
}
SYNTHETIC = {"num_images": 24, "image_size": 32, "folds": 2, "test_fraction": 0.25}
TIMEOUT = 600
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}


def _command(launcher: list[str], dataset: Path, run_dir: Path) -> list[str]:
    flags = [f"--{key}={value}" for key, value in {**TINY, "dataset_dir": dataset, "run_dir": run_dir}.items()]
    return [*TORCHRUN, *launcher, "-m", "monai.bundle", "run", "training", "--config_file", CONFIG, *flags]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _two_nodes(dataset: Path, run_dir: Path) -> list[subprocess.CompletedProcess]:
    """Two torchrun launches, one per "node", meeting at a c10d rendezvous on 127.0.0.1."""
    port, rdzv_id = _free_port(), uuid.uuid4().hex[:8]
    procs = []
    for node_rank in (0, 1):
        launcher = [
            "--nnodes=2",
            "--nproc_per_node=1",
            f"--node_rank={node_rank}",
            "--rdzv_backend=c10d",
            f"--rdzv_endpoint=127.0.0.1:{port}",
            f"--rdzv_id={rdzv_id}",
        ]
        procs.append(
            subprocess.Popen(
                _command(launcher, dataset, run_dir),
                cwd=ROOT,
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    results = []
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, ""))
    return results


def _model(run_dir: Path) -> dict[str, torch.Tensor]:
    """Rank 0's ``models/model.pt`` (the network's state dict at the best validation AUC)."""
    return torch.load(run_dir / "models" / "model.pt", map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("multinode_dataset")
    ensure_dataset(folder, synthetic=SYNTHETIC)
    return folder


def test_two_nodes_end_with_the_single_node_model(dataset: Path, tmp_path: Path) -> None:
    single = subprocess.run(
        _command(["--standalone", "--nnodes=1", "--nproc_per_node=2"], dataset, tmp_path / "single"),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert single.returncode == 0, (single.stdout + single.stderr)[-4000:]
    nodes = _two_nodes(dataset, tmp_path / "nodes")
    for node_rank, result in enumerate(nodes):
        assert result.returncode == 0, f"node {node_rank}:\n{result.stdout[-4000:]}"
    logs = "".join(result.stdout for result in nodes)
    assert logs.count("## Test set") == 1  # one global rank 0 over both nodes prints the report
    expected, got = _model(tmp_path / "single"), _model(tmp_path / "nodes")
    assert expected.keys() == got.keys()
    assert not any(key.startswith("module.") for key in got)  # saved unwrapped from DDP
    different = [key for key in expected if not torch.equal(expected[key], got[key])]
    assert not different, f"{len(different)} of {len(expected)} tensors differ, e.g. {different[:3]}"
    reports = [json.loads((tmp_path / run / "eval" / "test_report.json").read_text()) for run in ("single", "nodes")]
    assert reports[0]["metrics"] == reports[1]["metrics"]
