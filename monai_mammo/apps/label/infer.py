"""MONAI Label infer tasks on the bundles' models: classification, super-resolution, cross-dimensional.

Each task takes the bundle's own preprocessing, network and postprocessing from its configs
(:class:`~monai_mammo.apps.label.bundle.MammoBundle`), loads the weights on first use and again whenever the model
file changes (a training through the app, or a new ``model.pt`` put in place): no restart needed.

Bad input answers a 4xx with a one-line reason (``fastapi.HTTPException``; MONAI Label would turn any other error
into a bare 500): 404 unknown image, 409 model not trained yet, 415 not an image, 422 an image the model cannot
take (truncated DICOM, a CT, an ultrasound given to the mammography classifier, ...).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from monai.transforms import Compose, Resize
from monai.utils import optional_import

from monai_mammo.apps.label.bundle import MammoBundle, ModelNotFoundError, load_state_dict
from monai_mammo.apps.label.dicom_output import derived_sr_dicom, write_nifti
from monai_mammo.data import CheckMode, MammoImageError, MammoReader
from monai_mammo.transforms import LoadMammogramd
from monai_mammo.utils import MammoKeys

if TYPE_CHECKING:
    from fastapi import HTTPException
    from monailabel.interfaces.tasks.infer_v2 import InferTask, InferType
else:
    InferTask, _ = optional_import("monailabel.interfaces.tasks.infer_v2", name="InferTask", as_type="base")
    InferType, _ = optional_import("monailabel.interfaces.tasks.infer_v2", name="InferType")
    HTTPException, _ = optional_import("fastapi", name="HTTPException")

__all__ = [
    "CrossDimensionalInferTask",
    "MammoClassificationInferTask",
    "MammoInferTask",
    "SuperResolutionInferTask",
    "bad_request",
    "resolve_image_path",
]

logger = logging.getLogger(__name__)
MAMMO_MODALITIES = ("MG", "CR", "DX")
CROSS_MODALITIES = ("MG", "US")


def bad_request(status: int, reason: Any) -> Exception:
    """An ``HTTPException`` whose detail is the first line of ``reason``."""
    text = str(reason).strip().splitlines()
    return HTTPException(status_code=status, detail=text[0] if text else "bad request")


def _root_cause(error: BaseException) -> BaseException:
    """The error to report from a chain of ``raise ... from`` (MONAI's transforms wrap errors in RuntimeError): the
    first :class:`MammoImageError` or ``HTTPException`` in it, else the innermost."""
    chain = [error]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)
    return next((e for e in chain if isinstance(e, (MammoImageError, HTTPException))), chain[-1])


def resolve_image_path(image: str) -> Path:
    """The file to read: ``image`` itself, or the first file of a DICOM series folder (DICOMweb cache).

    Raises:
        HTTPException: 404 when nothing is there.
    """
    path = Path(image)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        if not files:
            raise bad_request(404, f"image {image}: empty series folder; expected a DICOM instance in it.")
        return files[0]
    if not path.is_file():
        raise bad_request(404, f"image {image} not found.")
    return path


class MammoInferTask(InferTask):
    """An infer task on one bundle: preprocessing from the bundle config ``preprocessing_id``, weights from
    ``bundle.model_path`` (reloaded when the file changes).

    Args:
        bundle: the bundle.
        preprocessing_id: config id of the preprocessing ``Compose`` (e.g. ``validate#preprocessing``).
        infer_type: MONAI Label's infer type.
        labels: class names (classification) or ``[]``.
        description: shown by ``/info``.
        allowed_modalities: DICOM Modality codes this task accepts (others: 422).
        config: user-settable request parameters and their defaults, shown by ``/info``.
    """

    def __init__(
        self,
        bundle: MammoBundle,
        preprocessing_id: str,
        infer_type: str,
        labels: Sequence[str],
        description: str,
        allowed_modalities: Sequence[str],
        config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(type=infer_type, labels=list(labels), dimension=2, description=description, config=config)
        self.bundle = bundle
        self.preprocessing_id = preprocessing_id
        self.allowed_modalities = tuple(allowed_modalities)
        self._lock = threading.RLock()
        self._network: torch.nn.Module | None = None
        self._network_sha: str | None = None
        self._preprocessing: Compose | None = None

    # ------------------------------------------------------------------ what MONAI Label asks
    def is_valid(self) -> bool:
        return True  # listed even before training: a request then answers 409 saying how to train

    def info(self) -> dict[str, Any]:
        info = super().info()
        try:
            info["model"] = self.bundle.model_version().as_dict()
        except ModelNotFoundError as e:
            info["model"] = {"file": str(self.bundle.model_path), "version": None, "status": str(e)}
        info["bundle"] = str(self.bundle.root)
        return info

    def __call__(self, request: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        try:
            path = resolve_image_path(str(request.get("image", "")))
            network, version = self.network()
            with torch.no_grad():
                return self.run(path, request, network, version.as_dict())
        except ModelNotFoundError as e:
            raise bad_request(409, e) from None
        except (ValueError, FileNotFoundError, RuntimeError) as e:
            cause = _root_cause(e)  # MONAI's Compose wraps a transform's error in RuntimeError("applying transform")
            logger.warning("infer %s on %s: %s", self.bundle.name, request.get("image"), cause)
            if isinstance(cause, MammoImageError):
                text = str(cause)
                unreadable = any(s in text for s in ("not an image", "not a DICOM", "empty file", "no DICOM"))
                raise bad_request(415 if unreadable else 422, text) from None
            if isinstance(cause, HTTPException):
                raise cause from None
            raise bad_request(422, f"{type(cause).__name__}: {cause}") from None

    # ------------------------------------------------------------------ parts
    def preprocessing(self) -> Compose:
        """The bundle's preprocessing, its loader refusing other modalities (it reads NIfTI / NRRD as well)."""
        with self._lock:
            if self._preprocessing is None:
                pre = self.bundle.get(self.preprocessing_id)
                readers = [r for t in pre.transforms if isinstance(t, LoadMammogramd) for r in t._loader.readers]
                if not readers:
                    raise RuntimeError(f"{self.bundle.name}: no LoadMammogramd in {self.preprocessing_id}.")
                for reader in readers:
                    if isinstance(reader, MammoReader):
                        reader.modality_check = CheckMode.ERROR
                        reader.allowed_modalities = tuple(self.allowed_modalities)
                self._preprocessing = pre
            return self._preprocessing

    def network(self) -> tuple[torch.nn.Module, Any]:
        """The network with the current weights (loaded again when the model file changed) and their version."""
        version = self.bundle.model_version()
        with self._lock:
            if self._network is None or self._network_sha != version.sha256:
                network = self.bundle.network()
                network.load_state_dict(load_state_dict(version.path))
                network.eval()
                logger.info("%s: loaded %s (version %s)", self.bundle.name, version.path, version.version)
                self._network, self._network_sha = network, version.sha256
            return self._network, version

    def load(self, path: Path, **extra: Any) -> dict[str, Any]:
        return self.preprocessing()({"image": str(path), **extra})

    def run(
        self, path: Path, request: dict[str, Any], network: torch.nn.Module, model: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any]]:
        raise NotImplementedError


def _image_info(img: Any) -> dict[str, Any]:
    meta = getattr(img, "meta", {})
    keys = (MammoKeys.MODALITY, MammoKeys.LATERALITY, MammoKeys.VIEW, MammoKeys.FORMAT, MammoKeys.SERIES_UID)
    return {str(k): str(meta.get(str(k), "")) for k in keys}


def classification_result(probabilities: Sequence[float], class_names: Sequence[str]) -> dict[str, Any]:
    """MONAI Label's classification result (``ClassificationWriter``'s ``prediction`` list), plus the class."""
    probs = [float(p) for p in probabilities]
    best = int(np.argmax(probs))
    return {
        "prediction": [
            {"idx": i, "label": name, "score": p} for i, (name, p) in enumerate(zip(class_names, probs, strict=True))
        ],
        "label": class_names[best],
        "label_index": best,
        "score": probs[best],
        "probabilities": dict(zip(class_names, probs, strict=True)),
    }


class MammoClassificationInferTask(MammoInferTask):
    """SRGAN-STN-ResNet50 (bundle ``mammo_stn_classifier``): the class and every class probability."""

    def __init__(self, bundle: MammoBundle) -> None:
        names = [str(n) for n in bundle.get("class_names")]
        super().__init__(
            bundle,
            "validate#preprocessing",
            InferType.CLASSIFICATION,
            names,
            "SRGAN-STN-ResNet50 mammogram classifier (normal / benign / malignant)",
            MAMMO_MODALITIES,
        )
        self.class_names = names
        self._post = bundle.get("postprocessing")

    def run(self, path, request, network, model):
        data = self.load(path)
        logits = network(data["image"][None].float())
        probs = self._post({"pred": logits[0]})["pred"]
        return None, {**classification_result(probs.tolist(), self.class_names), "model": model,
                      "image": _image_info(data["image"])}  # fmt: skip


class CrossDimensionalInferTask(MammoInferTask):
    """The cross-dimensional model (bundle ``breast_cross_transfer``): the head from the DICOM Modality, or from
    the request parameter ``modality`` (``MG`` / ``US``) for PNG and other files without one."""

    def __init__(self, bundle: MammoBundle) -> None:
        names = [str(n) for n in bundle.get("class_names")]
        super().__init__(
            bundle,
            "eval_preprocessing",
            InferType.CLASSIFICATION,
            names,
            "Cross-dimensional mammography / ultrasound classifier (head from the DICOM Modality)",
            CROSS_MODALITIES,
            config={"modality": ""},
        )
        self.class_names = names
        self.modalities = [str(m) for m in bundle.get("modalities")]
        self._post = bundle.get("postprocessing")
        self._prepare_batch = bundle.get("prepare_batch")

    def run(self, path, request, network, model):
        data = self.load(path)
        img = data["image"]
        asked = str(request.get("modality") or "").strip().upper()
        found = str(getattr(img, "meta", {}).get(MammoKeys.MODALITY, "UNKNOWN")).upper()
        head = found if found in self.modalities else asked
        if head not in self.modalities:
            raise bad_request(
                422,
                f"image {path.name}: no DICOM Modality to choose the head; give the request parameter "
                f"modality as one of {self.modalities}.",
            )
        if asked and found in self.modalities and asked != found:
            raise bad_request(422, f"image {path.name}: parameter modality={asked} but the DICOM Modality is {found}.")
        batch = {"image": img[None].float(), "modality": [head]}
        inputs, _, args, kwargs = self._prepare_batch(batch, torch.device("cpu"))
        logits = network(inputs, *args, **kwargs)
        probs = self._post({"pred": logits[0]})["pred"]
        result = classification_result(probs.tolist(), self.class_names)
        return None, {**result, "head": head, "model": model, "image": _image_info(img)}


class SuperResolutionInferTask(MammoInferTask):
    """The SR generator (bundle ``mammo_srgan``): the SR image as NIfTI (nibabel); for DICOM input also a derived
    DICOM in the same study, handed to ``store_dicom`` (STOW-RS to the PACS, or the local datastore).

    Args:
        bundle: the SR bundle.
        store_dicom: called with the derived DICOM's path; returns where it went (e.g. ``{"stored": "pacs"}``).
        max_input_size: the cropped breast is downsampled (area) to at most this many pixels along its longest side
            before SR (CPU time and memory grow with the pixels); 0: never. A request parameter of the same name
            overrides it.
        output_dir: where the result files go (default: the system's temporary folder).
    """

    def __init__(
        self,
        bundle: MammoBundle,
        store_dicom: Callable[[str], dict[str, Any]] | None = None,
        max_input_size: int = 1024,
        output_dir: str | None = None,
    ) -> None:
        super().__init__(
            bundle,
            "infer#preprocessing",
            InferType.OTHERS,
            [],
            "SRGAN super-resolution of the breast region (NIfTI; a derived DICOM stored in the same study)",
            MAMMO_MODALITIES,
            config={"max_input_size": int(max_input_size)},
        )
        self.scale = int(bundle.get("scale_factor"))
        self.value_range = [float(v) for v in bundle.get("value_range")]
        self.store_dicom = store_dicom
        self.max_input_size = int(max_input_size)
        self.output_dir = output_dir

    def run(self, path, request, network, model):
        data = self.load(path)
        img = data["image"]
        limit = int(request.get("max_input_size", self.max_input_size) or 0)
        if limit > 0 and max(img.shape[1:]) > limit:
            img = Resize(spatial_size=limit, size_mode="longest", mode="area")(img)
        sr = network(img[None].float())[0].clamp(*self.value_range)
        spacing = np.asarray(img.pixdim[:2], dtype=float) / self.scale if hasattr(img, "pixdim") else np.ones(2)
        array = sr[0].detach().cpu().numpy().astype(np.float32)
        fd, out = tempfile.mkstemp(suffix=".nii.gz", prefix="mammo_sr_", dir=self.output_dir)
        os.close(fd)
        write_nifti(out, array, spacing.tolist())
        result: dict[str, Any] = {
            "scale_factor": self.scale,
            "input_shape": [int(s) for s in img.shape[1:]],
            "shape": [int(s) for s in array.shape],
            "spacing": [float(s) for s in spacing],
            "model": model,
            "image": _image_info(data["image"]),
        }
        meta = getattr(data["image"], "meta", {})
        if str(meta.get(MammoKeys.FORMAT, "")) == "DICOM":
            fd, dcm = tempfile.mkstemp(suffix=".dcm", prefix="mammo_sr_", dir=self.output_dir)
            os.close(fd)
            ds = derived_sr_dicom(path, array, spacing.tolist(), self.value_range, self.scale, model, dcm)
            result["dicom"] = {
                "StudyInstanceUID": str(ds.StudyInstanceUID),
                "SeriesInstanceUID": str(ds.SeriesInstanceUID),
                "SOPInstanceUID": str(ds.SOPInstanceUID),
                "ReferencedSOPInstanceUID": str(ds.SourceImageSequence[0].ReferencedSOPInstanceUID),
            }
            try:
                if self.store_dicom is not None:
                    result["dicom"].update(self.store_dicom(dcm))
            finally:
                Path(dcm).unlink(missing_ok=True)
        return out, result
