"""The app's datastores: a local folder of breast images, and a PACS over DICOMweb.

Classification labels are kept as MONAI Label keeps a label: a file under the datastore's ``labels/final``
(``<image id>.json``, ``{"label": "<class name>"}`` or ``{"label": <index>}``), saved with ``PUT /datastore/label``,
its ``label_info`` in the datastore's JSON. For the PACS those label files stay in the local cache (DICOM SEG,
what MONAI Label would upload, is for segmentations).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monai.utils import optional_import
from pydicom import dcmread
from pydicom.dataset import Dataset

if TYPE_CHECKING:
    from monailabel.datastore.dicom import DICOMWebDatastore
    from monailabel.datastore.local import DataModel, ImageLabelModel, LocalDatastore
else:
    LocalDatastore, _ = optional_import("monailabel.datastore.local", name="LocalDatastore", as_type="base")
    DICOMWebDatastore, _ = optional_import("monailabel.datastore.dicom", name="DICOMWebDatastore", as_type="base")
    DataModel, _ = optional_import("monailabel.datastore.local", name="DataModel")
    ImageLabelModel, _ = optional_import("monailabel.datastore.local", name="ImageLabelModel")

__all__ = [
    "IMAGE_EXTENSIONS",
    "MammoDICOMWebDatastore",
    "MammoLocalDatastore",
    "class_index",
    "read_class_label",
]

logger = logging.getLogger(__name__)
# DICOM, PNG, PGM, and what 3D Slicer's MONAI Label module uploads (NRRD, NIfTI)
IMAGE_EXTENSIONS = ("*.dcm", "*.dicom", "*.png", "*.pgm", "*.nrrd", "*.nii.gz", "*.nii")
LABEL_SUFFIX = ".json"


def read_class_label(path: str | os.PathLike) -> Any:
    """The class in a classification label file (``{"label": name or index}``)."""
    try:
        content = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a classification label (JSON with a 'label'): {e}") from e
    if not isinstance(content, dict) or "label" not in content:
        raise ValueError(f"{path}: expected a JSON object with 'label' (class name or index).")
    return content["label"]


def class_index(label: Any, class_names: Sequence[str]) -> int:
    """The index of a class given by name (any case) or index."""
    names = [str(n).lower() for n in class_names]
    if isinstance(label, str) and label.strip().lower() in names:
        return names.index(label.strip().lower())
    try:
        index = int(label)
    except (TypeError, ValueError):
        raise ValueError(f"label {label!r}: expected one of {list(class_names)} or 0..{len(names) - 1}.") from None
    if not 0 <= index < len(names):
        raise ValueError(f"label {label!r}: expected one of {list(class_names)} or 0..{len(names) - 1}.")
    return index


class MammoLocalDatastore(LocalDatastore):
    """MONAI Label's local datastore over a folder of DICOM, PNG, PGM, NRRD and NIfTI images."""

    def __init__(self, folder: str, extensions: Sequence[str] = IMAGE_EXTENSIONS, **kwargs: Any) -> None:
        super().__init__(folder, extensions=list(extensions), **kwargs)

    def has_image(self, image_id: str) -> bool:
        return image_id in self._datastore.objects

    def store_dicom(self, path: str) -> dict[str, Any]:
        """Add a derived DICOM to the folder (it then appears beside its source); returns its image id."""
        ds = dcmread(path, stop_before_pixels=True)
        image_id = f"sr_{ds.SOPInstanceUID}"
        self.add_image(image_id, path, {"StudyInstanceUID": str(ds.StudyInstanceUID), "derived": True})
        return {"stored": "datastore", "image_id": image_id}


class MammoDICOMWebDatastore(DICOMWebDatastore):
    """MONAI Label's DICOMweb datastore for breast imaging.

    Lists the series of the given modalities (one QIDO-RS query each; MONAI Label's default filter is CT only),
    keeps each series as DICOM in its cache (no NIfTI conversion: the reader needs the DICOM metadata), stores
    derived images back with STOW-RS, and keeps classification labels in the cache.

    Args:
        client: a ``dicomweb_client.DICOMwebClient``.
        modalities: DICOM Modality codes listed.
        cache_path: the cache folder (default: MONAI Label's, in the home folder).
    """

    def __init__(self, client: Any, modalities: Sequence[str] = ("MG", "US"), cache_path: str | None = None) -> None:
        self._modalities = tuple(modalities)
        super().__init__(client, search_filter={}, cache_path=cache_path, fetch_by_frame=False, convert_to_nifti=False)

    def list_images(self) -> list[str]:
        series: list[str] = []
        for modality in self._modalities:
            for found in self._client.search_for_series(search_filters={"Modality": modality}):
                uid = str(Dataset.from_json(found)["SeriesInstanceUID"].value)
                if uid not in series:
                    series.append(uid)
        return series

    def has_image(self, image_id: str) -> bool:
        return bool(self._client.search_for_series(search_filters={"SeriesInstanceUID": image_id}))

    def get_image_uri(self, image_id: str) -> str:
        uri = super().get_image_uri(image_id)
        if image_id not in self._datastore.objects:  # the series folder recorded (not copied): labels refer to it
            info = {"SeriesInstanceUID": image_id, "name": image_id}
            self._datastore.objects[image_id] = ImageLabelModel(image=DataModel(info=info, ext=""))
            self._update_datastore_file()
        return uri

    def get_labeled_images(self, label_tag: str | None = None, labels: list[str] | None = None) -> list[str]:
        return LocalDatastore.get_labeled_images(self, label_tag, labels)

    def get_unlabeled_images(self, label_tag: str | None = None, labels: list[str] | None = None) -> list[str]:
        labelled = set(self.get_labeled_images())
        return [s for s in self.list_images() if s not in labelled]

    def save_label(self, image_id: str, label_filename: str, label_tag: str, label_info: dict[str, Any]) -> str:
        if str(label_filename).endswith(LABEL_SUFFIX):  # a classification label: kept in the cache
            self.get_image_uri(image_id)
            return LocalDatastore.save_label(self, image_id, label_filename, label_tag, label_info)
        return super().save_label(image_id, label_filename, label_tag, label_info)

    def datalist(self, full_path: bool = True) -> list[dict[str, Any]]:
        return LocalDatastore.datalist(self, full_path)

    def json(self) -> dict[str, Any]:
        """The cached objects and labels, and every series the PACS lists (``"cached": false`` until fetched)."""
        content = super().json()
        objects = content.setdefault("objects", {})
        for uid in self.list_images():
            if uid not in objects:
                objects[uid] = {"image": {"ext": "", "info": {"SeriesInstanceUID": uid, "cached": False}}, "labels": {}}
        return content

    def store_dicom(self, path: str) -> dict[str, Any]:
        """STOW-RS of a DICOM file to the PACS."""
        ds = dcmread(path)
        self._client.store_instances(datasets=[ds])
        return {"stored": "pacs", "url": self._client.base_url}
