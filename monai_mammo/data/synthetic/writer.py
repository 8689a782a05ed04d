"""Write a synthetic dataset to a folder: images (PNG or DICOM), lesion masks and a MONAI datalist JSON.

Layout of ``output_dir``::

    images/MG/SYN-MG-00000_L_CC.png      (or .dcm)
    masks/MG/SYN-MG-00000_L_CC_mask.png  (0/255, all zeros for normal images)
    images/US/SYN-US-00000_R_radial.png
    datalist.json                        {"training": [...], "test": [...]}

Each datalist item has ``image``, ``label``, ``mask`` (paths relative to ``output_dir``), ``modality``,
``patient_id``, ``laterality``, ``view`` and, in ``training``, ``fold``. Test women and folds are drawn per
woman (both images of one woman stay together) and per class (stratified).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.utils import StrEnum, look_up_option, optional_import
from PIL import Image
from tqdm import tqdm

from monai_mammo.utils import MammoKeys, Modality, atomic_write_bytes

from ..datalist import DATALIST_NAME, write_datalist
from ..splits import split_datalist
from .common import SyntheticImage, normalize_image_size
from .mammography import IMAGES_PER_WOMAN, SyntheticMammograms
from .ultrasound import SyntheticUltrasounds

Dataset, _ = optional_import("pydicom.dataset", name="Dataset")
FileMetaDataset, _ = optional_import("pydicom.dataset", name="FileMetaDataset")
generate_uid, _ = optional_import("pydicom.uid", name="generate_uid")
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"

__all__ = ["ImageFormat", "SyntheticModality", "make_synthetic_dataset", "write_dicom"]

DEFAULT_SIZES = {Modality.MG: 256, Modality.US: 128}
MG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.2"  # Digital Mammography X-Ray Image Storage - For Presentation
US_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.6.1"  # Ultrasound Image Storage


class SyntheticModality(StrEnum):
    """Which modalities a synthetic dataset holds."""

    MG = "MG"
    US = "US"
    BOTH = "both"


class ImageFormat(StrEnum):
    """File format of synthetic images."""

    PNG = "png"
    DICOM = "dicom"


def make_synthetic_dataset(
    output_dir: str | os.PathLike,
    num_images: int = 200,
    modality: str = "both",
    image_size: int | Sequence[int] | None = None,
    image_format: str = "png",
    seed: int = 0,
    folds: int = 5,
    test_fraction: float = 0.2,
    bit_depth: int = 16,
    compression: str = "none",
    progress: bool = False,
) -> Path:
    """Generate a synthetic breast-imaging dataset and its MONAI datalist.

    Image ``i`` of a modality is the same whatever ``num_images`` (see
    :class:`~monai_mammo.data.synthetic.mammography.SyntheticMammograms`); with ``modality="both"`` the images
    are split evenly between mammography and ultrasound. Every file is written atomically.

    Args:
        output_dir: the folder to write (created if needed).
        num_images: total number of images (>= 1).
        modality: ``"MG"``, ``"US"`` or ``"both"``.
        image_size: ``S`` or ``(H, W)``; default 256 for mammograms and 128 for ultrasound.
        image_format: ``"png"`` or ``"dicom"``.
        seed: the dataset seed.
        folds: number of cross-validation folds of the training part (>= 1).
        test_fraction: fraction of the women held out as the test set, in [0, 1).
        bit_depth: 8 or 16 for PNG mammograms (ultrasound PNGs are 8-bit); DICOM mammograms store 12 or 14 bits.
        compression: DICOM only: ``"none"`` or ``"rle"`` (RLE Lossless, pydicom's own encoder).
        progress: show a tqdm progress bar.

    Returns:
        the path of ``datalist.json``.

    Raises:
        ValueError: for an invalid argument, naming it and the allowed values.
    """
    modality = look_up_option(modality, SyntheticModality)
    image_format = look_up_option(image_format, ImageFormat)
    if not isinstance(num_images, (int, np.integer)) or isinstance(num_images, bool) or num_images < 1:
        raise ValueError(f"num_images must be an int >= 1, got {num_images!r}.")
    if not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"folds must be an int >= 2, got {folds!r}.")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}.")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth!r}.")
    if compression not in ("none", "rle"):
        raise ValueError(f"compression must be 'none' or 'rle', got {compression!r}.")
    if image_size is not None:
        normalize_image_size(image_size)
    modalities = [Modality.MG, Modality.US] if modality == SyntheticModality.BOTH else [Modality(modality)]
    counts = [num_images // len(modalities) + (k < num_images % len(modalities)) for k in range(len(modalities))]
    women = sum(-(-count // IMAGES_PER_WOMAN) for count in counts)
    if women * (1.0 - test_fraction) < folds or (test_fraction > 0 and women * test_fraction < 1):
        raise ValueError(
            f"num_images={num_images} gives {women} synthetic women ({IMAGES_PER_WOMAN} images each), too few for "
            f"folds={folds} and test_fraction={test_fraction}; use more images or fewer folds."
        )
    root = Path(output_dir)
    items: list[dict[str, Any]] = []
    bar = tqdm(total=num_images, desc="synthetic images", unit="img", disable=not progress)
    for mod, count in zip(modalities, counts, strict=True):
        size = DEFAULT_SIZES[mod] if image_size is None else image_size
        gen: SyntheticMammograms | SyntheticUltrasounds
        gen = SyntheticMammograms(size, seed=seed) if mod == Modality.MG else SyntheticUltrasounds(size, seed=seed)
        for index in range(count):
            items.append(_write_item(root, gen[index], image_format, bit_depth, compression))
            bar.update()
    bar.close()
    # stratify on modality and class together (a temporary key), grouped by synthetic woman
    strata = {m: 3 * k for k, m in enumerate(Modality)}
    for item in items:
        item["_stratum"] = strata[item[MammoKeys.MODALITY]] + item[MammoKeys.LABEL]
    with warnings.catch_warnings():  # small datasets have strata smaller than the number of parts: expected here
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        try:
            datalist = split_datalist(items, folds=folds, test_fraction=test_fraction, seed=seed, label_key="_stratum")
        except ValueError as e:
            raise ValueError(
                f"cannot split num_images={num_images} synthetic images into folds={folds} and "
                f"test_fraction={test_fraction} ({e}); use more images or fewer folds."
            ) from e
    for part in datalist.values():
        for item in part:
            del item["_stratum"]
    return write_datalist(root / DATALIST_NAME, datalist)


def _write_item(root: Path, item: SyntheticImage, image_format: str, bit_depth: int, compression: str) -> dict:
    meta = item.meta
    mod = meta[MammoKeys.MODALITY]
    detail = meta[MammoKeys.VIEW] if mod == Modality.MG else meta["plane"]
    name = f"{meta[MammoKeys.PATIENT_ID]}_{meta[MammoKeys.LATERALITY]}_{detail}"
    ext = ".png" if image_format == ImageFormat.PNG else ".dcm"
    image_rel, mask_rel = f"images/{mod}/{name}{ext}", f"masks/{mod}/{name}_mask.png"
    if image_format == ImageFormat.PNG:
        depth = bit_depth if mod == Modality.MG else 8
        atomic_write_bytes(root / image_rel, _png_bytes(item.image, depth))
    else:
        write_dicom(root / image_rel, item, compression=compression)
    atomic_write_bytes(root / mask_rel, _png_bytes(item.mask.astype(np.float32), 8))
    return {
        MammoKeys.IMAGE.value: str(root.absolute() / image_rel),
        MammoKeys.LABEL.value: meta[MammoKeys.LABEL],
        MammoKeys.MASK.value: str(root.absolute() / mask_rel),
        MammoKeys.MODALITY.value: mod,
        MammoKeys.PATIENT_ID.value: meta[MammoKeys.PATIENT_ID],
        MammoKeys.LATERALITY.value: meta[MammoKeys.LATERALITY],
        MammoKeys.VIEW.value: meta[MammoKeys.VIEW],
    }


def _png_bytes(image: np.ndarray, bit_depth: int) -> bytes:
    top = 255 if bit_depth == 8 else 65535
    values = np.round(np.clip(image, 0, 1) * top).astype(np.uint8 if bit_depth == 8 else np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()


def write_dicom(path: str | os.PathLike, item: SyntheticImage, compression: str = "none") -> None:
    """Write one synthetic image as a DICOM file with realistic tags, atomically.

    Mammograms: Modality MG, 16-bit words with BitsStored 12 or 14 (alternating between women), MONOCHROME1 for
    one image in four (stored inverted, to exercise the reader's inversion), WindowCenter/Width, RescaleSlope and
    Intercept, ImagerPixelSpacing, ImageLaterality, ViewPosition. Ultrasound: Modality US, 8-bit MONOCHROME2,
    PixelSpacing. UIDs are derived from the seed and the image, so a rerun writes identical files.

    Args:
        path: the ``.dcm`` file.
        item: the synthetic image.
        compression: ``"none"`` (Explicit VR Little Endian) or ``"rle"`` (RLE Lossless).
    """
    meta = item.meta
    mg = meta[MammoKeys.MODALITY] == Modality.MG
    patient, index, seed = meta[MammoKeys.PATIENT_ID], meta["index"], meta["seed"]
    group = int(patient.rsplit("-", 1)[-1])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.SOPClassUID = MG_SOP_CLASS if mg else US_SOP_CLASS
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[str(seed), patient, str(index), "sop"])
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[str(seed), patient, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[str(seed), patient, str(index), "series"])
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = EXPLICIT_VR_LITTLE_ENDIAN
    ds.PatientID, ds.PatientName = patient, f"SYNTHETIC^{patient}"
    ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20260101", 1 + index % 2, 1 + index
    ds.Modality = meta[MammoKeys.MODALITY]
    ds.Manufacturer, ds.BodyPartExamined = "monai_mammo synthetic", "BREAST"
    ds.ImageLaterality = ds.Laterality = meta[MammoKeys.LATERALITY]
    ds.Rows, ds.Columns = item.image.shape
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    if mg:
        bits = 12 if group % 2 == 0 else 14
        top = 2**bits - 1
        values = np.round(item.image * top).astype(np.uint16)
        ds.PhotometricInterpretation = "MONOCHROME1" if index % 4 == 3 else "MONOCHROME2"
        if ds.PhotometricInterpretation == "MONOCHROME1":
            values = (top - values).astype(np.uint16)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits, bits - 1
        ds.ViewPosition = meta[MammoKeys.VIEW]
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.ImagerPixelSpacing = [f"{s:.4f}" for s in meta["pixel_spacing"]]
        ds.WindowCenter, ds.WindowWidth = (top + 1) // 2, top + 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, 0, "US"
    else:
        values = np.round(item.image * 255).astype(np.uint8)
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
        ds.PixelSpacing = [f"{s:.4f}" for s in meta["pixel_spacing"]]
    ds.PixelData = values.tobytes()
    if compression == "rle":
        ds.compress(RLE_LOSSLESS, values, encoding_plugin="pydicom", generate_instance_uid=False)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    atomic_write_bytes(path, buffer.getvalue())
