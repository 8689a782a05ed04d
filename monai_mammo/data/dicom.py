"""DICOM pixel pipeline for mammograms and breast ultrasound, usable on its own.

Order (DICOM PS3.4 N.2, the grayscale standard display pipeline up to the P-values):

1. decode the stored values (pydicom; RLE needs nothing else, JPEG / JPEG-LS / JPEG 2000 need the
   ``dicom`` extra), mask the bits above ``BitsStored`` and sign-extend signed data;
2. modality LUT: ``ModalityLUTSequence``, else ``RescaleSlope`` / ``RescaleIntercept``;
3. VOI LUT: ``VOILUTSequence`` or ``WindowCenter`` / ``WindowWidth`` with ``VOILUTFunction`` LINEAR,
   LINEAR_EXACT or SIGMOID (skipped with ``apply_voi=False``);
4. inversion for ``MONOCHROME1`` or ``PresentationLUTShape`` INVERSE, so that bright means dense.

Steps 2 and 3 are pydicom's own ``apply_modality_lut``, ``apply_voi`` and ``apply_windowing`` (pydicom 2.4
and 3.x). The output keeps the value range those functions give (e.g. 0..4095 for 12 bits stored); that
range is reported under :attr:`MammoKeys.VALUE_RANGE` so normalisation can use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pydicom.config
from monai.utils import OptionalImportError, StrEnum, look_up_option, optional_import
from pydicom.dataset import Dataset

from monai_mammo.utils import Laterality, MammoKeys, View

PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3
# pydicom 3 moved the LUT functions to ``pydicom.pixels``; 2.4 has them in ``pixel_data_handlers.util``.
_pixels, _ = optional_import("pydicom.pixels" if PYDICOM_3 else "pydicom.pixel_data_handlers.util")

__all__ = [
    "PYDICOM_3",
    "MammoImageError",
    "VOIFunction",
    "WindowChoice",
    "decode_stored_values",
    "dicom_metadata",
    "dicom_to_array",
    "modality_value_range",
    "parse_laterality_view",
]

_INSTALL_HINT = "pip install 'monai-mammo[dicom]'"


class MammoImageError(ValueError):
    """A file that cannot give a valid 2D breast image; the message names the file and what was expected."""


class WindowChoice(StrEnum):
    """Which of several VOI windows (or VOI LUTs) to apply, besides an integer index."""

    WIDEST = "widest"
    NARROWEST = "narrowest"


class VOIFunction(StrEnum):
    """The VOI transform that was applied, recorded under :attr:`MammoKeys.WINDOW_FUNCTION`."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"
    VOI_LUT = "VOI_LUT"
    NONE = "NONE"


def _name(ds: Dataset, filename: Any) -> str:
    return str(filename if filename is not None else getattr(ds, "filename", None) or "<dataset>")


def _check_decoder(ds: Dataset, where: str) -> None:
    """Raise a clear error before decoding when no installed plugin handles the transfer syntax."""
    tsyntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if tsyntax is None or not tsyntax.is_compressed:
        return
    if PYDICOM_3:
        try:
            available = bool(_pixels.get_decoder(tsyntax).is_available)
        except NotImplementedError:  # pydicom has no decoder at all for this transfer syntax
            available = False
    else:
        handlers = pydicom.config.pixel_data_handlers
        available = any(h.supports_transfer_syntax(tsyntax) and h.is_available() for h in handlers)
    if not available:
        raise OptionalImportError(
            f"{where}: no installed decoder for its transfer syntax {tsyntax.name} ({tsyntax}); pydicom alone "
            f"decodes uncompressed and RLE pixel data. Install the decoders with: {_INSTALL_HINT}"
        )


def _apply_bits_stored(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Keep only the low ``BitsStored`` bits and sign-extend signed data.

    pydicom 3 already does this; pydicom 2.4 leaves garbage (overlays, padding) above ``BitsStored``
    in unsigned data, so it is done here for both (idempotent on already clean data).
    """
    bits_allocated = arr.dtype.itemsize * 8
    bits_stored = int(ds.get("BitsStored") or bits_allocated)
    if bits_stored >= bits_allocated or bits_stored <= 0:
        return arr
    unsigned = arr.view(np.dtype(f"u{arr.dtype.itemsize}")) & ((1 << bits_stored) - 1)
    if int(ds.get("PixelRepresentation") or 0) == 0:
        return unsigned
    sign_bit = 1 << (bits_stored - 1)
    return ((unsigned.astype(np.int64) ^ sign_bit) - sign_bit).astype(np.dtype(f"i{arr.dtype.itemsize}"))


def decode_stored_values(ds: Dataset, filename: Any = None) -> np.ndarray:
    """Decode one 2D frame of stored values: (rows, columns) or (rows, columns, 3) for colour, in RGB.

    Palette colour is expanded through its LUT and YBR is converted to RGB. The array is exactly pydicom's
    ``pixel_array`` in orientation (row-major, no transpose or flip), with ``BitsStored`` respected.

    Raises:
        MammoImageError: no pixel data, several frames, or the pixel data cannot be decoded (truncated...).
        OptionalImportError: the transfer syntax needs a decoder plugin that is not installed.
    """
    where = _name(ds, filename)
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise MammoImageError(
            f"{where}: DICOM without pixel data (Modality {ds.get('Modality', '?')}, SOP class "
            f"{getattr(ds.get('SOPClassUID'), 'name', '?')}); expected an image."
        )
    try:
        frames = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError) as e:
        raise MammoImageError(f"{where}: invalid NumberOfFrames {ds.get('NumberOfFrames')!r}.") from e
    if frames != 1:
        raise MammoImageError(f"{where}: {frames} frames (a 3D or cine image); expected a single 2D image.")
    _check_decoder(ds, where)
    try:
        arr = ds.pixel_array
    except Exception as e:  # pydicom raises many types for corrupt data; name the file and the cause
        raise MammoImageError(f"{where}: cannot decode the pixel data ({type(e).__name__}: {e}).") from e
    samples = int(ds.get("SamplesPerPixel") or 1)
    if arr.ndim != (2 if samples == 1 else 3) or arr.size == 0:
        raise MammoImageError(
            f"{where}: decoded pixel array of shape {arr.shape} with SamplesPerPixel={samples}; expected a 2D "
            "image (rows, columns) or (rows, columns, 3)."
        )
    if "PixelData" in ds and arr.dtype.kind in "iu":
        arr = _apply_bits_stored(arr, ds)
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    if photometric == "PALETTE COLOR":
        arr = _pixels.apply_color_lut(arr, ds)
    elif photometric.startswith("YBR_FULL") and not PYDICOM_3:
        # pydicom 3's pixel_array converts YBR_FULL(_422) to RGB; 2.4 returns it in the stored colour space
        arr = _pixels.convert_color_space(arr, photometric, "RGB")
    return arr


def _stored_range(ds: Dataset, arr: np.ndarray) -> tuple[float, float]:
    if "PixelData" not in ds:  # float pixel data: no nominal range
        return float(np.min(arr)), float(np.max(arr))
    bits = int(ds.get("BitsStored") or arr.dtype.itemsize * 8)
    if int(ds.get("PixelRepresentation") or 0) == 0:
        return 0.0, float(2**bits - 1)
    return float(-(2 ** (bits - 1))), float(2 ** (bits - 1) - 1)


def _has_rescale(ds: Dataset) -> bool:
    return ds.get("RescaleSlope") is not None and ds.get("RescaleIntercept") is not None


def modality_value_range(ds: Dataset, arr: np.ndarray) -> tuple[float, float]:
    """(min, max) that the modality LUT output can take; pydicom's windowing maps onto this range too."""
    if ds.get("ModalityLUTSequence"):
        return 0.0, float(2 ** int(ds.ModalityLUTSequence[0].LUTDescriptor[2]) - 1)
    low, high = _stored_range(ds, arr)
    if _has_rescale(ds):
        slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        low, high = sorted((low * slope + intercept, high * slope + intercept))
    return low, high


def _apply_modality_lut(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """pydicom's ``apply_modality_lut``, except for LUT entries of 9..15 bits."""
    seq = ds.get("ModalityLUTSequence")
    if seq and int(seq[0].LUTDescriptor[2]) not in (8, 16):
        # pydicom makes the dtype f"uint{bits}" from the descriptor, which fails for the 9..15 bits the standard allows
        entries, first, _ = (int(v) for v in seq[0].LUTDescriptor)
        element = seq[0]["LUTData"]
        if isinstance(element.value, bytes):  # OW: raw 16-bit words in the dataset's byte order
            big = getattr(ds.file_meta, "TransferSyntaxUID", None) == pydicom.uid.ExplicitVRBigEndian
            lut = np.frombuffer(element.value, dtype=">u2" if big else "<u2")
        else:
            lut = np.asarray(element.value if isinstance(element.value, Sequence) else [element.value])
        index = np.clip(arr.astype(np.int64) - first, 0, (entries or 2**16) - 1)
        return lut.astype(np.uint16)[index]
    if seq or _has_rescale(ds):
        return _pixels.apply_modality_lut(arr, ds)
    return arr


def _as_floats(value: Any) -> list[float]:
    if value is None or value == "":
        return []
    if isinstance(value, (Sequence, pydicom.multival.MultiValue)) and not isinstance(value, str):
        return [float(v) for v in value]
    return [float(value)]


def _pick(choice: int | str, widths: Sequence[float], where: str, what: str) -> int:
    if isinstance(choice, (int, np.integer)) and not isinstance(choice, bool):
        if not -len(widths) <= int(choice) < len(widths):
            raise MammoImageError(f"{where}: window={choice} but the file has {len(widths)} {what}.")
        return int(choice) % len(widths)
    choice = look_up_option(choice, WindowChoice)
    return int(np.argmax(widths) if choice == WindowChoice.WIDEST else np.argmin(widths))


def _no_window() -> dict[str, Any]:
    return {MammoKeys.WINDOW: np.array([np.nan, np.nan]), MammoKeys.WINDOW_FUNCTION: str(VOIFunction.NONE)}


def _apply_voi(
    arr: np.ndarray, ds: Dataset, window: int | str, prefer_voi_lut: bool, where: str, modality_range: tuple
) -> tuple[np.ndarray, dict]:
    """VOI LUT or windowing through pydicom; returns the array and the window metadata."""
    centers, widths = _as_floats(ds.get("WindowCenter")), _as_floats(ds.get("WindowWidth"))
    n_windows = min(len(centers), len(widths))
    luts = [item for item in ds.get("VOILUTSequence") or [] if "LUTDescriptor" in item and "LUTData" in item]
    none = _no_window()
    try:
        if luts and (prefer_voi_lut or n_windows == 0):
            index = _pick(window, [float(item.LUTDescriptor[0] or 2**16) for item in luts], where, "VOI LUTs")
            if arr.dtype.kind == "f":  # a LUT is indexed by integers; pydicom warns on float input
                arr = np.floor(arr).astype(np.int64)
            out = _pixels.apply_voi(arr, ds, index=index)
            value_range = (0.0, float(2 ** int(luts[index].LUTDescriptor[2]) - 1))
            return out, {
                **none,
                MammoKeys.WINDOW_FUNCTION: str(VOIFunction.VOI_LUT),
                MammoKeys.VALUE_RANGE: value_range,
            }
        if n_windows:
            index = _pick(window, widths[:n_windows], where, "windows")
            function = look_up_option(str(ds.get("VOILUTFunction") or "LINEAR").strip().upper(), VOIFunction)
            out = _pixels.apply_windowing(arr, ds, index=index)
            return out, {
                MammoKeys.WINDOW: np.array([centers[index], widths[index]]),
                MammoKeys.WINDOW_FUNCTION: str(function),
                MammoKeys.VALUE_RANGE: modality_range,  # pydicom's windowing output spans the modality range
            }
    except (ValueError, NotImplementedError, IndexError, KeyError) as e:
        if isinstance(e, MammoImageError):
            raise
        raise MammoImageError(f"{where}: invalid VOI LUT / window ({type(e).__name__}: {e}).") from e
    return arr, {**none, MammoKeys.VALUE_RANGE: modality_range}


def dicom_to_array(
    ds: Dataset,
    apply_voi: bool = True,
    window: int | str = 0,
    prefer_voi_lut: bool = True,
    filename: Any = None,
) -> tuple[np.ndarray, dict]:
    """Run the whole pixel pipeline on one DICOM dataset.

    Args:
        ds: a dataset read by ``pydicom.dcmread`` (pixel data included).
        apply_voi: apply the VOI LUT / window; ``False`` keeps the modality values (e.g. raw detector values).
        window: which window or VOI LUT when the file has several: an index (``0`` the first, ``-1`` the
            last) or ``"widest"`` / ``"narrowest"`` (by ``WindowWidth``, or by the number of LUT entries).
        prefer_voi_lut: when the file has both a ``VOILUTSequence`` and windows, use the LUT (as pydicom).
        filename: named in error messages (defaults to ``ds.filename``).

    Returns:
        A float32 array, (rows, columns) for monochrome data or (rows, columns, 3) RGB for colour, and a dict
        with :class:`MammoKeys` ``PHOTOMETRIC``, ``INVERTED``, ``BITS_STORED``, ``WINDOW`` ((center, width),
        NaN when no window was applied), ``WINDOW_FUNCTION`` and ``VALUE_RANGE`` (the range of the output).

    Raises:
        MammoImageError: see :func:`decode_stored_values`; also an invalid window, or non-finite values.
        OptionalImportError: a missing decoder plugin.
    """
    where = _name(ds, filename)
    arr = decode_stored_values(ds, where)
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    meta: dict = {
        MammoKeys.PHOTOMETRIC: photometric,
        MammoKeys.BITS_STORED: int(ds.get("BitsStored") or arr.dtype.itemsize * 8),
        MammoKeys.INVERTED: False,
    }
    if arr.ndim == 3:  # colour (ultrasound): no modality/VOI LUT applies to RGB
        top = float(np.iinfo(arr.dtype).max) if arr.dtype.kind in "iu" else float(np.max(arr))
        return arr.astype(np.float32), {**meta, **_no_window(), MammoKeys.VALUE_RANGE: np.array([0.0, top])}
    values = _apply_modality_lut(arr, ds)
    modality_range = modality_value_range(ds, arr)
    info: dict[str, Any]
    if apply_voi:
        values, info = _apply_voi(values, ds, window, prefer_voi_lut, where, modality_range)
    else:
        info = {**_no_window(), MammoKeys.VALUE_RANGE: modality_range}
    # up to 16-bit integers go to float32 at once (exact, half the memory); wider or float data to float64
    values = np.asarray(values)
    wide = values.dtype.kind not in "iu" or values.dtype.itemsize > 2
    values = values.astype(np.float64 if wide else np.float32, copy=False)
    shape = str(ds.get("PresentationLUTShape", "")).strip().upper()
    if photometric == "MONOCHROME1" or shape == "INVERSE":
        # pydicom's apply_presentation_lut inverts around the image's own max, which depends on the content;
        # mirroring inside the known output range keeps values comparable between images.
        low, high = info[MammoKeys.VALUE_RANGE]
        values = (low + high) - values
        meta[MammoKeys.INVERTED] = True
    if values.dtype == np.float64 and not np.isfinite([values.min(), values.max()]).all():  # NaN propagates
        raise MammoImageError(f"{where}: the pixel values contain NaN or infinity; expected finite values.")
    info[MammoKeys.VALUE_RANGE] = np.asarray(info[MammoKeys.VALUE_RANGE], dtype=np.float64)
    return values.astype(np.float32, copy=False), {**meta, **info}


_TEXT_LATERALITY = {"LEFT": Laterality.LEFT, "RIGHT": Laterality.RIGHT}
_TEXT_VIEW = {"CC": View.CC, "MLO": View.MLO}
_TEXT_VIEW_PHRASES = {"CRANIOCAUDAL": View.CC, "MEDIOLATERALOBLIQUE": View.MLO}  # letters only, e.g. cranio-caudal


def parse_laterality_view(*texts: Any) -> tuple[Laterality, View]:
    """Laterality and view from free text such as CBIS-DDSM's ``"Mass-Test_P_00820_LEFT_MLO"``.

    Words (split at anything not a letter or digit): ``LEFT``/``RIGHT`` give the laterality and ``CC``/``MLO``
    (or ``cranio-caudal`` / ``medio-lateral oblique``) the view. Single letters ``L``/``R`` are not used (too
    ambiguous: patient orientation codes). Conflicting words give ``UNKNOWN``.
    """
    lateralities: set[Laterality] = set()
    views: set[View] = set()
    for text in texts:
        if not text:
            continue
        upper = str(text).upper()
        for word in re.split(r"[^A-Z0-9]+", upper):
            if word in _TEXT_LATERALITY:
                lateralities.add(_TEXT_LATERALITY[word])
            if word in _TEXT_VIEW:
                views.add(_TEXT_VIEW[word])
        letters = re.sub(r"[^A-Z]+", "", upper)
        views.update(view for phrase, view in _TEXT_VIEW_PHRASES.items() if phrase in letters)
    laterality = lateralities.pop() if len(lateralities) == 1 else Laterality.UNKNOWN
    return laterality, views.pop() if len(views) == 1 else View.UNKNOWN


def _spacing(ds: Dataset) -> tuple[np.ndarray, str]:
    """(row, column) spacing in mm and where it came from."""
    for tag in ("ImagerPixelSpacing", "PixelSpacing"):
        values = _as_floats(ds.get(tag))
        if len(values) == 2 and all(math.isfinite(v) and v > 0 for v in values):
            return np.array(values, dtype=np.float64), tag
    regions = ds.get("SequenceOfUltrasoundRegions") or []
    if regions and all(
        int(regions[0].get(t) or 0) == 3 for t in ("PhysicalUnitsXDirection", "PhysicalUnitsYDirection")
    ):
        dy, dx = _as_floats(regions[0].get("PhysicalDeltaY")), _as_floats(regions[0].get("PhysicalDeltaX"))
        if dy and dx and dy[0] > 0 and dx[0] > 0:  # units 3 = cm
            return np.array([abs(dy[0]) * 10.0, abs(dx[0]) * 10.0]), "SequenceOfUltrasoundRegions"
    return np.ones(2, dtype=np.float64), "none"


def dicom_metadata(ds: Dataset, filename: Any = None) -> dict:
    """Breast-imaging metadata of a dataset, every value collate-safe (no ``None``).

    Laterality: ``ImageLaterality``, else ``Laterality``, else words in ``SeriesDescription``, ``PatientID``,
    ``ProtocolName``, ``PatientOrientation`` or the file's name, not its folders (:func:`parse_laterality_view`);
    ``"U"`` when unknown
    (also for ``B``, both). View: ``ViewPosition`` when it is CC or MLO (other views such as ML or XCCL give
    ``"UNKNOWN"``), else ``ViewCodeSequence``'s meaning, else the same words; ``"UNKNOWN"`` when unknown.
    Spacing (mm, (row, column)): ``ImagerPixelSpacing``, else ``PixelSpacing``, else the ultrasound region's
    physical deltas, else 1.0 with ``SPACING_SOURCE`` ``"none"``.
    """
    texts = [ds.get(t) for t in ("SeriesDescription", "PatientID", "ProtocolName", "PatientOrientation")]
    text_laterality, text_view = parse_laterality_view(*texts, Path(str(filename)).name if filename else None)
    laterality = Laterality.UNKNOWN
    for tag in ("ImageLaterality", "Laterality"):
        value = str(ds.get(tag) or "").strip().upper()
        if value:
            laterality = {"L": Laterality.LEFT, "R": Laterality.RIGHT}.get(value, Laterality.UNKNOWN)
            break
    else:
        laterality = text_laterality
    position = str(ds.get("ViewPosition") or "").strip().upper()
    if position:
        view = {"CC": View.CC, "MLO": View.MLO}.get(position, View.UNKNOWN)
    else:
        codes = ds.get("ViewCodeSequence") or []
        view = parse_laterality_view(codes[0].get("CodeMeaning"))[1] if codes else View.UNKNOWN
        view = view if view != View.UNKNOWN else text_view
    spacing, source = _spacing(ds)
    return {
        MammoKeys.MODALITY: str(ds.get("Modality") or "UNKNOWN").strip().upper(),
        MammoKeys.PATIENT_ID: str(ds.get("PatientID") or ""),
        MammoKeys.STUDY_UID: str(ds.get("StudyInstanceUID") or ""),
        MammoKeys.SERIES_UID: str(ds.get("SeriesInstanceUID") or ""),
        MammoKeys.SOP_UID: str(ds.get("SOPInstanceUID") or ""),
        MammoKeys.LATERALITY: str(laterality),
        MammoKeys.VIEW: str(view),
        MammoKeys.SPACING: spacing,
        MammoKeys.SPACING_SOURCE: source,
    }
