"""String enums used across monai_mammo (MONAI style: ``StrEnum`` checked with ``look_up_option``)."""

from __future__ import annotations

from monai.utils import StrEnum


class Modality(StrEnum):
    """Imaging modality, with the DICOM Modality codes as values."""

    MG = "MG"  # mammography
    US = "US"  # ultrasound


class Laterality(StrEnum):
    """Which breast: DICOM ImageLaterality / Laterality codes."""

    LEFT = "L"
    RIGHT = "R"
    UNKNOWN = "U"


class View(StrEnum):
    """Mammographic view (DICOM ViewPosition)."""

    CC = "CC"
    MLO = "MLO"
    UNKNOWN = "UNKNOWN"


class BreastClass(StrEnum):
    """The three diagnostic classes used throughout monai_mammo.

    The integer label of a class is its position here: normal=0, benign=1, malignant=2.
    """

    NORMAL = "normal"
    BENIGN = "benign"
    MALIGNANT = "malignant"

    @classmethod
    def label_of(cls, name: str) -> int:
        """Integer label of a class name (``"benign"`` -> 1)."""
        return list(cls).index(cls(name))


class MammoKeys(StrEnum):
    """Keys of the metadata dictionary that monai_mammo's reader fills, and of datalist items."""

    MODALITY = "modality"
    LATERALITY = "laterality"
    VIEW = "view"
    PATIENT_ID = "patient_id"
    STUDY_UID = "study_instance_uid"
    SERIES_UID = "series_instance_uid"
    SOP_UID = "sop_instance_uid"
    WINDOW = "window"
    PHOTOMETRIC = "photometric_interpretation"
    INVERTED = "inverted"
    BITS_STORED = "bits_stored"
    WINDOW_FUNCTION = "window_function"  # reader: VOI function applied (LINEAR, SIGMOID, VOI_LUT, NONE, ...)
    VALUE_RANGE = "value_range"  # reader: (min, max) the output values can take, e.g. (0, 4095)
    SPACING = "spacing"  # reader: (row, column) pixel spacing in mm, MONAI's key; 1.0 when unknown
    SPACING_SOURCE = "spacing_source"  # reader: ImagerPixelSpacing, PixelSpacing or none
    FORMAT = "format"  # reader: DICOM, PNG, PGM, JPEG, TIFF, ...
    FILENAME = "filename_or_obj"
    LABEL = "label"
    IMAGE = "image"
    MASK = "mask"
    FOLD = "fold"


CROSS_MODALITIES: tuple[str, ...] = (Modality.MG.value, Modality.US.value)
"""The modalities of the cross-dimensional model, in the order of its heads (mammography, ultrasound)."""
