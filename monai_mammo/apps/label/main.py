"""The MONAI Label app of monai_mammo (``monailabel start_server --app <this folder> --studies ...``).

Infer tasks ``mammo_classification``, ``mammo_superres`` and ``breast_cross`` on the bundles of ``bundles/``, the
train task ``mammo_classification``, and datastores for a local folder or a DICOMweb PACS. Settings, each
given as ``--conf KEY VALUE``:

- ``bundles_dir``: the bundles' folder (default: the repository's ``bundles/``);
- ``models_dir``: where the weights are, ``<models_dir>/<bundle>/model.pt`` (default: each bundle's ``models/``,
  where its training writes them);
- ``bundle_overrides``: JSON ``{"<bundle>": {"<config id>": value}}`` set on the bundles' configs (e.g. the
  ``image_size`` a model was trained with);
- ``sr_max_input_size``: longest side the SR task's input is reduced to (default 1024; 0: never);
- ``dicomweb_modalities``: the PACS series listed, comma-separated (default ``MG,US``);
- ``dicomweb_cache``: the folder caching the PACS series (default: MONAI Label's, in the home folder).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from monailabel.config import settings
from monailabel.datastore.dicom import DICOMwebClientX
from monailabel.interfaces.app import MONAILabelApp

from monai_mammo import __version__
from monai_mammo.apps.label.bundle import MammoBundle, default_bundles_dir
from monai_mammo.apps.label.datastore import MammoDICOMWebDatastore, MammoLocalDatastore
from monai_mammo.apps.label.infer import (
    CrossDimensionalInferTask,
    MammoClassificationInferTask,
    SuperResolutionInferTask,
)
from monai_mammo.apps.label.train import BundleClassificationTrainTask

logger = logging.getLogger(__name__)

CLASSIFICATION, SUPERRES, CROSS = "mammo_classification", "mammo_superres", "breast_cross"
BUNDLES = {CLASSIFICATION: "mammo_stn_classifier", SUPERRES: "mammo_srgan", CROSS: "breast_cross_transfer"}


class MammoLabelApp(MONAILabelApp):
    """monai_mammo's MONAI Label app: classification, super-resolution and cross-dimensional models of the
    bundles, training of the classifier, local-folder and DICOMweb datastores (see the module for ``conf``)."""

    studies: str

    def __init__(self, app_dir: str, studies: str, conf: dict[str, str]) -> None:
        conf = dict(conf or {})
        self.bundles_dir = Path(conf.get("bundles_dir") or default_bundles_dir())
        self.models_dir = Path(conf["models_dir"]) if conf.get("models_dir") else None
        self.bundle_overrides: dict[str, dict[str, Any]] = json.loads(conf.get("bundle_overrides") or "{}")
        self.sr_max_input_size = int(conf.get("sr_max_input_size", 1024))
        self._bundles: dict[str, MammoBundle] = {}
        super().__init__(
            app_dir=app_dir,
            studies=studies,
            conf=conf,
            name="monai_mammo",
            description="Breast imaging: mammogram classification, super-resolution, mammography/ultrasound models",
            version=__version__,
        )

    # ------------------------------------------------------------------ bundles
    def bundle(self, task: str, configs: tuple[str, ...] = ("train", "inference")) -> MammoBundle:
        name = BUNDLES[task]
        key = f"{name}:{','.join(configs)}"
        if key not in self._bundles:
            model = self.models_dir / name / "model.pt" if self.models_dir else None
            self._bundles[key] = MammoBundle(
                self.bundles_dir / name, configs=configs, overrides=self.bundle_overrides.get(name), model_path=model
            )
        return self._bundles[key]

    # ------------------------------------------------------------------ MONAI Label's hooks
    def init_datastore(self):
        if self.studies.startswith(("http://", "https://")):
            return self.init_remote_datastore()
        return MammoLocalDatastore(
            self.studies,
            auto_reload=settings.MONAI_LABEL_DATASTORE_AUTO_RELOAD,
            read_only=settings.MONAI_LABEL_DATASTORE_READ_ONLY,
        )

    def init_remote_datastore(self):
        studies = str(self.studies).rstrip("/").strip()
        self.studies = studies
        client = DICOMwebClientX(
            url=studies,
            qido_url_prefix=settings.MONAI_LABEL_QIDO_PREFIX,
            wado_url_prefix=settings.MONAI_LABEL_WADO_PREFIX,
            stow_url_prefix=settings.MONAI_LABEL_STOW_PREFIX,
        )
        modalities = [m.strip().upper() for m in self.conf.get("dicomweb_modalities", "MG,US").split(",") if m.strip()]
        cache = self.conf.get("dicomweb_cache") or settings.MONAI_LABEL_DICOMWEB_CACHE_PATH or None
        return MammoDICOMWebDatastore(client, modalities=modalities, cache_path=cache)

    def init_infers(self):
        store = getattr(self._datastore, "store_dicom", None)
        return {
            CLASSIFICATION: MammoClassificationInferTask(self.bundle(CLASSIFICATION)),
            SUPERRES: SuperResolutionInferTask(
                self.bundle(SUPERRES), store_dicom=store, max_input_size=self.sr_max_input_size
            ),
            CROSS: CrossDimensionalInferTask(self.bundle(CROSS)),
        }

    def init_trainers(self):
        bundle = self.bundle(CLASSIFICATION, configs=("train",))
        work_dir = bundle.model_path.parent / "label_runs"
        names = self._infers[CLASSIFICATION].class_names
        return {CLASSIFICATION: BundleClassificationTrainTask(bundle, names, work_dir)}

    def init_strategies(self):
        return super().init_strategies()  # random: the next image to label

    def init_scoring_methods(self):
        return {}

    def infer(self, request, datastore=None):
        """MONAI Label's infer, answering 404 for an unknown model or image id instead of a bare 500."""
        model = request.get("model")
        if model not in self._infers:
            raise HTTPException(status_code=404, detail=f"no model '{model}'; the models are {sorted(self._infers)}.")
        image = request.get("image")
        if isinstance(image, str) and not os.path.exists(image):
            store = datastore if datastore else self.datastore()
            if not image or not store.has_image(image):
                raise HTTPException(
                    status_code=404, detail=f"image '{image}' is not in the datastore ({self.studies})."
                )
        return super().infer(request, datastore)

    def train(self, request):
        """MONAI Label's train, answering 404 for an unknown train task."""
        model = request.get("model")
        if model not in self._trainers:
            raise HTTPException(status_code=404, detail=f"no train task '{model}'; there are {sorted(self._trainers)}.")
        return super().train(request)
