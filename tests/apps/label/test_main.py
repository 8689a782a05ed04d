"""The MONAI Label app on a real server: on Orthanc over DICOMweb, and on a local folder.

Each REST call here is one of docs/source/label.md's curl commands. Run alone with ``-m label`` in .venv-label.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
import requests

pytestmark = pytest.mark.label

CLASSES = ["normal", "benign", "malignant"]


def _uid(path: Path, keyword: str = "SeriesInstanceUID") -> str:
    return str(getattr(pydicom.dcmread(path, stop_before_pixels=True), keyword))


def _ok(response: requests.Response) -> dict:
    assert response.status_code == 200, f"{response.status_code}: {response.text[:2000]}"
    return response.json()


def _check_classification(result: dict, version: str | None = None) -> None:
    assert [p["label"] for p in result["prediction"]] == CLASSES
    scores = [p["score"] for p in result["prediction"]]
    assert abs(sum(scores) - 1.0) < 1e-4 and all(0.0 <= s <= 1.0 for s in scores)
    assert result["label"] == CLASSES[int(np.argmax(scores))] and result["probabilities"][result["label"]] == max(
        scores
    )
    assert Path(result["model"]["file"]).name == "model.pt" and len(result["model"]["version"]) == 12
    if version is not None:
        assert result["model"]["version"] == version


def _assert_bad(response: requests.Response, status: int, words: str) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text[:2000]}"
    detail = response.json()["detail"]
    assert "\n" not in detail and words.lower() in detail.lower(), detail


# ---------------------------------------------------------------------------------------------- on the PACS
def test_info_and_datastore_on_the_pacs(pacs_server: Any, cbis_dicoms: list[Path], ultrasound_dicom: Path):
    info = _ok(pacs_server.get("/info/"))
    assert set(info["models"]) == {"mammo_classification", "mammo_superres", "breast_cross"}
    assert info["models"]["mammo_classification"]["type"] == "classification"
    assert set(info["trainers"]) == {"mammo_classification"}
    datastore = _ok(pacs_server.get("/datastore/?output=all"))
    series = {_uid(p) for p in [*cbis_dicoms, ultrasound_dicom]}
    assert series <= set(datastore["objects"])


def test_classification_of_a_series(pacs_server: Any, cbis_dicoms: list[Path]):
    result = _ok(pacs_server.post(f"/infer/mammo_classification?image={_uid(cbis_dicoms[0])}&output=json"))
    _check_classification(result)
    assert result["image"]["modality"] == "MG" and result["image"]["format"] == "DICOM"


def test_superres_is_stored_in_the_study_beside_the_original(
    pacs_server: Any, orthanc: Any, cbis_dicoms: list[Path], tmp_path: Path
):
    source = cbis_dicoms[1]
    study, sop = _uid(source, "StudyInstanceUID"), _uid(source, "SOPInstanceUID")
    response = pacs_server.post(f"/infer/mammo_superres?image={_uid(source)}&output=all")
    assert response.status_code == 200, response.text[:2000]
    # multipart: the JSON params and the NIfTI; the JSON part first
    params = json.loads(response.content.split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0])
    dicom = params["dicom"]
    assert dicom["StudyInstanceUID"] == study and dicom["ReferencedSOPInstanceUID"] == sop
    assert dicom["stored"] == "pacs"
    assert params["shape"] == [2 * s for s in params["input_shape"]]
    series = requests.get(f"{orthanc.dicomweb}/studies/{study}/series", timeout=30).json()
    assert dicom["SeriesInstanceUID"] in {s["0020000E"]["Value"][0] for s in series}
    meta = requests.get(
        f"{orthanc.dicomweb}/studies/{study}/series/{dicom['SeriesInstanceUID']}/metadata", timeout=30
    ).json()[0]
    assert meta["00082112"]["Value"][0]["00081155"]["Value"] == [sop]  # SourceImageSequence -> the source
    assert meta["00080008"]["Value"][:2] == ["DERIVED", "SECONDARY"]
    nifti = pacs_server.post(f"/infer/mammo_superres?image={_uid(source)}&output=image")
    path = tmp_path / "sr.nii.gz"
    path.write_bytes(nifti.content)
    import nibabel

    img = nibabel.load(path)
    assert img.shape[:2] == tuple(reversed(params["shape"])) and img.shape[2] == 1
    assert np.allclose(img.header.get_zooms()[:2], list(reversed(params["spacing"])), rtol=1e-4)


def test_cross_model_on_an_ultrasound_dicom(pacs_server: Any, ultrasound_dicom: Path):
    result = _ok(pacs_server.post(f"/infer/breast_cross?image={_uid(ultrasound_dicom)}"))
    _check_classification(result)
    assert result["head"] == "US"


def _upload(server: Any, model: str, name: str, content: bytes, params: dict | None = None):
    files = {"file": (name, content, "application/octet-stream")}
    data = {"params": json.dumps(params or {})}
    return server.post(f"/infer/{model}?output=json", files=files, data=data)


def test_bad_requests_get_a_4xx_reason_and_the_server_goes_on(
    pacs_server: Any, cbis_dicoms: list[Path], ct_dicom: Path
):
    _assert_bad(_upload(pacs_server, "mammo_classification", "notes.png", b"not an image\n"), 415, "not an image")
    truncated = cbis_dicoms[0].read_bytes()[:3000]
    _assert_bad(_upload(pacs_server, "mammo_classification", "cut.dcm", truncated), 422, "truncated DICOM")
    _assert_bad(_upload(pacs_server, "mammo_classification", "ct.dcm", ct_dicom.read_bytes()), 422, "Modality 'CT'")
    _assert_bad(pacs_server.post("/infer/mammo_classification?image=1.2.3.4.5"), 404, "not in the datastore")
    _assert_bad(pacs_server.post(f"/infer/no_such_model?image={_uid(cbis_dicoms[0])}"), 404, "no model")
    assert _ok(pacs_server.get("/info/"))["name"] == "monai_mammo"


def test_concurrent_requests_are_all_answered(pacs_server: Any, cbis_dicoms: list[Path]):
    results: dict[int, int] = {}

    def ask(i: int) -> None:
        uid = _uid(cbis_dicoms[i % len(cbis_dicoms)])
        results[i] = pacs_server.post(f"/infer/mammo_classification?image={uid}&output=json").status_code

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    info = pacs_server.get("/info/", timeout=300)
    for t in threads:
        t.join(timeout=600)
    assert results == dict.fromkeys(range(8), 200)
    assert info.status_code == 200


# ---------------------------------------------------------------------------------------------- on a local folder
def test_local_folder_info_and_datastore(local_server: Any, local_studies: Path):
    info = _ok(local_server.get("/info/"))
    assert set(info["models"]) == {"mammo_classification", "mammo_superres", "breast_cross"}
    assert info["models"]["mammo_classification"]["model"]["version"] is None  # not trained yet
    objects = _ok(local_server.get("/datastore/?output=all"))["objects"]
    files = {p.name.split(".")[0] for p in local_studies.iterdir() if p.suffix in (".dcm", ".png")}
    assert files <= set(objects)


def test_untrained_model_says_how_to_train(local_server: Any):
    _assert_bad(local_server.post("/infer/mammo_classification?image=us1_unci"), 409, "train it with POST")


def test_local_superres_and_cross_model(local_server: Any, local_studies: Path):
    dicom = next(p.stem for p in sorted(local_studies.glob("cbis_*.dcm")))
    params = _ok(local_server.post(f"/infer/mammo_superres?image={dicom}&output=json"))
    assert params["dicom"]["stored"] == "datastore"
    objects = _ok(local_server.get("/datastore/?output=all"))["objects"]
    assert params["dicom"]["image_id"] in objects
    assert _ok(local_server.post("/infer/breast_cross?image=us1_unci"))["head"] == "US"
    png = next(p.stem for p in sorted(local_studies.glob("synthetic_*.png")))
    _assert_bad(local_server.post(f"/infer/breast_cross?image={png}"), 422, "modality")
    with_head = local_server.post(f"/infer/breast_cross?image={png}", data={"params": json.dumps({"modality": "MG"})})
    assert _ok(with_head)["head"] == "MG"


def test_training_changes_the_served_model(local_server: Any, local_studies: Path, tmp_path: Path):
    labels = json.loads((local_studies / "labels.json").read_text())
    for image_id, label in labels.items():
        path = tmp_path / f"{image_id}.json"
        path.write_text(json.dumps({"label": CLASSES[label]}))
        with open(path, "rb") as f:
            saved = local_server.put(
                f"/datastore/label?image={image_id}&tag=final", files={"label": (path.name, f, "application/json")}
            )
        assert saved.status_code == 200, saved.text[:1000]
    start = _ok(local_server.post("/train/mammo_classification", json={"max_epochs": 1}))
    assert start["status"] in ("SUBMITTED", "RUNNING")
    deadline, status = time.monotonic() + 300, {}
    while time.monotonic() < deadline:
        status = _ok(local_server.get("/train/"))
        if status["status"] not in ("SUBMITTED", "RUNNING"):
            break
        time.sleep(2)
    details = "\n".join(status.get("details", []))
    assert status["status"] == "DONE", details
    assert "served model" in details
    version = _ok(local_server.get("/info/"))["models"]["mammo_classification"]["model"]["version"]
    assert version is not None
    png = next(iter(labels))
    _check_classification(_ok(local_server.post(f"/infer/mammo_classification?image={png}")), version)


def test_slicer_nifti_and_nrrd_read_as_the_png(local_server: Any, local_studies: Path, tmp_path: Path):
    from monai_mammo.data import MammoReader

    png = sorted(local_studies.glob("synthetic_*.png"))[0]
    arr, _ = MammoReader().load(png)
    import itk
    import nibabel

    nifti = tmp_path / "slicer.nii.gz"
    nibabel.save(nibabel.Nifti1Image(arr.T[:, :, None].astype(np.float32), np.eye(4)), nifti)  # (column, row, 1)
    nrrd = tmp_path / "slicer.nrrd"
    itk.imwrite(itk.image_from_array(np.ascontiguousarray(arr[None].astype(np.float32))), str(nrrd))
    reference = _ok(_upload(local_server, "breast_cross", png.name, png.read_bytes(), {"modality": "MG"}))
    for path in (nifti, nrrd):
        result = _ok(_upload(local_server, "breast_cross", path.name, path.read_bytes(), {"modality": "MG"}))
        got = [p["score"] for p in result["prediction"]]
        assert np.allclose(got, [p["score"] for p in reference["prediction"]], atol=1e-5), path.name
