"""MammoReader: a MONAI ``ImageReader`` for mammograms and breast ultrasound (DICOM, PGM, PNG, JPEG, TIFF).

Axis convention: the array is ``(H, W)`` = (rows, columns), row-major, exactly as ``pydicom``'s
``pixel_array`` and ``numpy.asarray(PIL.Image)`` give it: axis 0 runs top to bottom, axis 1 left to right.
Unlike MONAI's ``PILReader`` (``reverse_indexing=True``) and ``PydicomReader`` (``swap_ij=True``), nothing is
transposed. The affine is ``diag(row_spacing, column_spacing, 1, 1)`` in mm (identity when the spacing is
unknown), so ``MetaTensor.pixdim`` is (row, column) spacing.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from monai.config import PathLike
from monai.data import ImageReader
from monai.utils import MetaKeys, StrEnum, ensure_tuple, look_up_option
from PIL import Image, UnidentifiedImageError
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from monai_mammo.data.dicom import (
    MammoImageError,
    VOIFunction,
    WindowChoice,
    dicom_metadata,
    dicom_to_array,
    parse_laterality_view,
)
from monai_mammo.data.volume import is_volume_file, read_volume_slice
from monai_mammo.utils import MammoKeys

__all__ = [
    "ALLOWED_MODALITIES",
    "DICOM_SUFFIXES",
    "IMAGE_SUFFIXES",
    "READABLE_SUFFIXES",
    "CheckMode",
    "ColorMode",
    "MammoReader",
]

logger = logging.getLogger(__name__)

ALLOWED_MODALITIES = ("MG", "US", "CR", "DX")
"""DICOM Modality codes :class:`MammoReader` accepts by default (mammography is sometimes stored as CR or DX)."""
DICOM_SUFFIXES = (".dcm", ".dicom", ".dic")
"""File suffixes of DICOM files (DICOM files are also recognised by their header, whatever their name)."""
IMAGE_SUFFIXES = (".pgm", ".pnm", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
"""File suffixes of the other image files :class:`MammoReader` reads (PGM itself, the rest through Pillow)."""
READABLE_SUFFIXES = DICOM_SUFFIXES + IMAGE_SUFFIXES
"""Every suffix :class:`MammoReader` reads; the one list the dataset builders and the command line use."""
# ITU-R BT.601 luma weights, as Pillow's convert("L") and most ultrasound exports
_LUMA = np.array([0.299, 0.587, 0.114])
_PIL_GREY_RANGES = {"1": (0.0, 1.0, 1), "L": (0.0, 255.0, 8), "LA": (0.0, 255.0, 8)}
_PGM_NUMBER = re.compile(rb"\d+")


class ColorMode(StrEnum):
    """What to do with colour (RGB, RGBA, palette) images.

    ``luminance``: always one channel: grey-looking colour images give their grey values, truly colour ones
    (e.g. a Doppler overlay) their BT.601 luminance. ``auto``: grey-looking ones give one channel, truly colour
    ones keep 3 channels. ``rgb``: colour files always keep 3 channels.
    """

    LUMINANCE = "luminance"
    AUTO = "auto"
    RGB = "rgb"


class CheckMode(StrEnum):
    """What a failed check does: warn, raise :class:`MammoImageError`, or nothing."""

    WARN = "warn"
    ERROR = "error"
    IGNORE = "ignore"


def _read_dicom(path: Path) -> Dataset:
    """``pydicom.dcmread`` with its failures, and its warnings about a file cut short, as MammoImageError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(path)
        except InvalidDicomError as e:
            raise MammoImageError(f"{path}: not a DICOM file (no 'DICM' preamble); expected DICOM.") from e
        except Exception as e:  # a truncated header raises EOFError, struct.error, ...
            raise MammoImageError(f"{path}: cannot parse the DICOM ({type(e).__name__}: {e}).") from e
    for warning in caught:
        if "end of file" in str(warning.message).lower():  # pydicom only warns, and may return an empty dataset
            raise MammoImageError(f"{path}: truncated DICOM, cannot decode ({warning.message}).")
        warnings.warn(warning.message, warning.category, stacklevel=3)
    if len(ds) == 0:
        raise MammoImageError(f"{path}: DICOM without any data element; expected an image.")
    return ds


def _read_pgm(path: Path, data: bytes) -> tuple[np.ndarray, float]:
    """Binary PGM (P5), 8 or 16 bits, values as stored.

    Written here because Pillow rescales 16-bit PGMs whose maxval is not 65535 to 0..65535.
    """
    fields: list[int] = []
    pos = 2
    while len(fields) < 3:
        while pos < len(data) and (data[pos : pos + 1].isspace() or data[pos : pos + 1] == b"#"):
            pos = data.find(b"\n", pos) + 1 if data[pos : pos + 1] == b"#" else pos + 1
            if pos == 0:
                break
        match = _PGM_NUMBER.match(data, pos)
        if match is None:
            raise MammoImageError(f"{path}: invalid PGM header; expected 'P5 width height maxval'.")
        fields.append(int(match.group()))
        pos = match.end()
    pos += 1  # exactly one whitespace between maxval and the pixels
    width, height, maxval = fields
    if not 0 < maxval < 65536:
        raise MammoImageError(f"{path}: PGM maxval {maxval}; expected 1..65535.")
    dtype = np.dtype(np.uint8 if maxval < 256 else ">u2")
    if len(data) - pos < width * height * dtype.itemsize:
        raise MammoImageError(
            f"{path}: truncated PGM: {len(data) - pos} bytes of pixels, expected {width * height * dtype.itemsize} "
            f"for {width}x{height} at maxval {maxval}."
        )
    arr = np.frombuffer(data, dtype=dtype, count=width * height, offset=pos).reshape(height, width)
    return arr.astype(np.uint8 if maxval < 256 else np.uint16), float(maxval)


def _pil_to_array(path: Path) -> tuple[np.ndarray, str, int, tuple[float, float], str]:
    """Array (H, W) or (H, W, 3), photometric, bits, value range and format of an image Pillow reads."""
    try:
        with Image.open(path) as img:
            n_frames = int(getattr(img, "n_frames", 1))
            if n_frames > 1:
                raise MammoImageError(f"{path}: {n_frames} frames (a 3D or multi-page image); expected one 2D image.")
            img.load()
            fmt, mode = str(img.format), img.mode
            if mode in _PIL_GREY_RANGES:
                low, high, bits = _PIL_GREY_RANGES[mode]
                arr = np.asarray(img.getchannel(0) if mode == "LA" else img, dtype=np.uint8)
                return arr, "MONOCHROME2", bits, (low, high), fmt
            if mode.startswith("I;16"):
                return np.asarray(img).astype(np.uint16), "MONOCHROME2", 16, (0.0, 65535.0), fmt
            if mode in ("I", "F"):
                arr = np.asarray(img)
                if mode == "I" and arr.size and arr.min() >= 0 and arr.max() <= 65535:
                    return arr.astype(np.uint16), "MONOCHROME2", 16, (0.0, 65535.0), fmt
                rng = (float(np.nanmin(arr)), float(np.nanmax(arr))) if arr.size else (0.0, 0.0)
                return arr, "MONOCHROME2", arr.dtype.itemsize * 8, rng, fmt
            photometric = "PALETTE COLOR" if mode in ("P", "PA") else "RGB"
            return np.asarray(img.convert("RGB")), photometric, 8, (0.0, 255.0), fmt
    except UnidentifiedImageError as e:
        raise MammoImageError(
            f"{path}: not an image file (neither DICOM nor a format Pillow reads); expected DICOM, PGM, PNG, JPEG or "
            "TIFF."
        ) from e
    except (OSError, SyntaxError, ValueError) as e:
        if isinstance(e, MammoImageError):
            raise
        raise MammoImageError(f"{path}: cannot read the image, truncated or corrupt ({type(e).__name__}: {e}).") from e


class MammoReader(ImageReader):
    """Read one mammogram or breast ultrasound image, with the DICOM display pipeline applied.

    DICOM goes through :func:`monai_mammo.data.dicom.dicom_to_array` (modality LUT -> VOI LUT ->
    MONOCHROME1 / INVERSE inversion, ``BitsStored`` respected); binary PGM (P5) is read as stored; PNG, JPEG,
    TIFF and BMP through Pillow; one-slice NIfTI and NRRD (what 3D Slicer uploads) through nibabel and ITK
    (:mod:`monai_mammo.data.volume`, the ``volumes`` extra). The array is float32 ``(H, W)`` (rows, columns: no
    transpose, unlike ``PILReader``), or ``(H, W, 3)`` for colour kept by ``color_mode``; ``original_channel_dim`` tells
    ``EnsureChannelFirst`` which. Usable with ``monai.transforms.LoadImage(reader=MammoReader())``, or
    through :class:`monai_mammo.transforms.LoadMammogram`.

    ``read`` only records the paths; all opening, decoding and checking happens in ``get_data``, so
    errors reach the caller as :class:`MammoImageError` (a ``ValueError`` naming the file) even through
    ``LoadImage``, which would otherwise wrap errors raised in ``read`` in a ``RuntimeError``.

    Args:
        apply_voi: apply the DICOM VOI LUT or window (``False``: keep the modality LUT output).
        window: which DICOM window or VOI LUT when there are several: an index, ``"widest"`` or ``"narrowest"``.
        prefer_voi_lut: when a DICOM has both a ``VOILUTSequence`` and windows, use the LUT.
        color_mode: ``"luminance"`` (default, always one channel), ``"auto"`` or ``"rgb"``; see :class:`ColorMode`.
        grey_tolerance: a colour image whose channels differ by at most this (stored units) counts as grey.
        modality_check: what a DICOM whose Modality is not in ``allowed_modalities`` does: ``"warn"``,
            ``"error"`` or ``"ignore"``. A missing Modality counts as ``"UNKNOWN"``.
        allowed_modalities: DICOM Modality codes accepted; default MG, US, CR and DX (mammography is
            sometimes stored as CR or DX).
        constant: what a constant image (min == max, normalisation would divide by zero) does:
            ``"warn"``, ``"error"`` or ``"ignore"``.
        modality: the modality recorded for non-DICOM files (e.g. ``"MG"`` for MIAS, ``"US"`` for BUSI);
            ``None`` records ``"UNKNOWN"``.

    Raises:
        MammoImageError: at ``get_data``: not an image, DICOM without pixel data, truncated or corrupt,
            several frames, empty, NaN/infinite values, a disallowed modality or a constant image (by option).
        OptionalImportError: a compressed DICOM whose decoder is not installed
            (``pip install 'monai-mammo[dicom]'``).

    Example:
        >>> from monai.transforms import LoadImage
        >>> img = LoadImage(reader=MammoReader(), ensure_channel_first=True)("mdb001.pgm")  # doctest: +SKIP
        >>> img.shape, img.meta["laterality"]  # doctest: +SKIP
        (torch.Size([1, 1024, 1024]), 'U')
    """

    def __init__(
        self,
        apply_voi: bool = True,
        window: int | str = 0,
        prefer_voi_lut: bool = True,
        color_mode: str = ColorMode.LUMINANCE,
        grey_tolerance: float = 2.0,
        modality_check: str = CheckMode.WARN,
        allowed_modalities: Sequence[str] = ALLOWED_MODALITIES,
        constant: str = CheckMode.WARN,
        modality: str | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(window, (int, np.integer)) or isinstance(window, bool):
            window = look_up_option(window, WindowChoice)
        self.apply_voi = bool(apply_voi)
        self.window = window
        self.prefer_voi_lut = bool(prefer_voi_lut)
        self.color_mode = look_up_option(color_mode, ColorMode)
        if not grey_tolerance >= 0:
            raise ValueError(f"grey_tolerance must be >= 0, got {grey_tolerance}.")
        self.grey_tolerance = float(grey_tolerance)
        self.modality_check = look_up_option(modality_check, CheckMode)
        self.allowed_modalities = tuple(str(m).upper() for m in ensure_tuple(allowed_modalities))
        self.constant = look_up_option(constant, CheckMode)
        self.modality = str(modality).upper() if modality else "UNKNOWN"
        self._said: set[str] = set()

    def verify_suffix(self, filename: Sequence[PathLike] | PathLike) -> bool:
        """True when every name ends in a DICOM or image suffix, or in none (DICOM files often have none)."""
        if all(is_volume_file(f) for f in ensure_tuple(filename)):
            return True
        names = [Path(f).suffix.lower() for f in ensure_tuple(filename)]
        # UID-named DICOMs end in digits: "1.2.840...5"
        return all(s in READABLE_SUFFIXES or s == "" or s[1:].isdigit() for s in names)

    def read(self, data: Sequence[PathLike] | PathLike, **kwargs) -> Sequence[Path] | Path:
        """Record the path(s); the files are opened in :meth:`get_data` (see the class note on errors)."""
        paths = [Path(f) for f in ensure_tuple(data)]
        return paths if len(paths) > 1 else paths[0]

    def get_data(self, img) -> tuple[np.ndarray, dict]:
        """Load the image(s): array and metadata; several files are stacked as channels (first axis).

        Args:
            img: what :meth:`read` returned (a path or a list of paths), or pydicom ``Dataset`` (s).
        """
        items = list(img) if isinstance(img, (list, tuple)) else [img]  # a Dataset is iterable: no ensure_tuple
        loaded = [self.load(i) for i in items]
        if len(loaded) == 1:
            return loaded[0]
        shapes = {tuple(m[MetaKeys.SPATIAL_SHAPE]) for _, m in loaded}
        if len(shapes) > 1:
            raise MammoImageError(f"{items}: cannot stack images of different sizes {sorted(shapes)}.")
        arrays = [a[None] if a.ndim == 2 else np.moveaxis(a, -1, 0) for a, _ in loaded]
        meta = dict(loaded[0][1])
        meta[MetaKeys.ORIGINAL_CHANNEL_DIM] = 0
        return np.concatenate(arrays, axis=0), meta

    def load(self, source: PathLike | Dataset) -> tuple[np.ndarray, dict]:
        """Load one file (or pydicom ``Dataset``): float32 array and metadata with plain ``str`` keys."""
        if isinstance(source, Dataset):
            arr, meta = self._load_dicom(source, Path(str(getattr(source, "filename", None) or "<dataset>")))
        else:
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such file.")
            with open(path, "rb") as f:
                head = f.read(132)
            if not head:
                raise MammoImageError(f"{path}: empty file (0 bytes); expected an image.")
            if head[128:132] == b"DICM" or path.suffix.lower() in DICOM_SUFFIXES:
                arr, meta = self._load_dicom(_read_dicom(path), path)
            elif is_volume_file(path):  # a one-slice NIfTI / NRRD, e.g. uploaded by 3D Slicer
                arr, meta = read_volume_slice(path, self.modality)
            else:
                arr, meta = self._load_other(path, head)
        return self._finish(arr, meta)

    def _load_dicom(self, ds: Dataset, path: Path) -> tuple[np.ndarray, dict]:
        meta = dicom_metadata(ds, path)
        if self.modality_check != CheckMode.IGNORE and meta[MammoKeys.MODALITY] not in self.allowed_modalities:
            self._fail(
                self.modality_check,
                f"{path}: DICOM Modality {meta[MammoKeys.MODALITY]!r}; expected one of {self.allowed_modalities} "
                "(option allowed_modalities / modality_check).",
            )
        arr, pixel_meta = dicom_to_array(
            ds, apply_voi=self.apply_voi, window=self.window, prefer_voi_lut=self.prefer_voi_lut, filename=path
        )
        return arr, {**meta, **pixel_meta, MammoKeys.FORMAT: "DICOM", MammoKeys.FILENAME: str(path)}

    def _load_other(self, path: Path, head: bytes) -> tuple[np.ndarray, dict]:
        if head[:2] == b"P5":
            stored, maxval = _read_pgm(path, path.read_bytes())
            photometric, bits, value_range, fmt = "MONOCHROME2", int(maxval).bit_length(), (0.0, maxval), "PGM"
        else:
            stored, photometric, bits, value_range, fmt = _pil_to_array(path)
        laterality, view = parse_laterality_view(path.stem)
        meta = {
            MammoKeys.MODALITY: self.modality,
            MammoKeys.PATIENT_ID: "",
            MammoKeys.STUDY_UID: "",
            MammoKeys.SERIES_UID: "",
            MammoKeys.SOP_UID: "",
            MammoKeys.LATERALITY: str(laterality),
            MammoKeys.VIEW: str(view),
            MammoKeys.SPACING: np.ones(2),
            MammoKeys.SPACING_SOURCE: "none",
            MammoKeys.PHOTOMETRIC: photometric,
            MammoKeys.BITS_STORED: bits,
            MammoKeys.INVERTED: False,
            MammoKeys.WINDOW: np.array([np.nan, np.nan]),
            MammoKeys.WINDOW_FUNCTION: str(VOIFunction.NONE),
            MammoKeys.VALUE_RANGE: np.asarray(value_range, dtype=np.float64),
            MammoKeys.FORMAT: fmt,
            MammoKeys.FILENAME: str(path),
        }
        return stored, meta

    def _colour(self, arr: np.ndarray, where: str) -> np.ndarray:
        """(H, W, 3) -> (H, W) or kept, by ``color_mode`` (see :class:`ColorMode`); the first conversion is logged."""
        if self.color_mode == ColorMode.RGB:
            return arr
        if float(np.max(np.ptp(arr, axis=-1))) <= self.grey_tolerance:  # ptp of unsigned values cannot overflow
            self._say_once("grey", f"{where}: an RGB image whose channels are equal is read as one grey channel")
            return arr.mean(axis=-1, dtype=np.float64)
        if self.color_mode == ColorMode.AUTO:
            return arr
        self._say_once(
            "colour", f"{where}: a colour image is read as its BT.601 luminance (color_mode='rgb' keeps 3 channels)"
        )
        return arr.astype(np.float32) @ _LUMA.astype(np.float32)

    def _say_once(self, what: str, message: str) -> None:
        """Log ``message`` the first time this reader meets ``what`` (later files: silence, it is the same)."""
        if what not in self._said:
            self._said.add(what)
            logger.info("%s (said once per reader; later images are read the same way).", message)

    def _finish(self, arr: np.ndarray, meta: dict) -> tuple[np.ndarray, dict]:
        where = meta[MammoKeys.FILENAME]
        if arr.size == 0:
            raise MammoImageError(f"{where}: empty image of shape {arr.shape}; expected a 2D image.")
        if arr.ndim == 3:
            arr = self._colour(arr, where)
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] != 3):
            raise MammoImageError(f"{where}: image of shape {arr.shape}; expected (H, W) or (H, W, 3).")
        arr = arr.astype(np.float32, copy=False)
        low, high = arr.min(), arr.max()  # NaN propagates through min / max: no full isfinite pass needed
        if not (np.isfinite(low) and np.isfinite(high)):
            raise MammoImageError(f"{where}: the pixel values contain NaN or infinity; expected finite values.")
        if self.constant != CheckMode.IGNORE and low == high:
            self._fail(
                self.constant,
                f"{where}: constant image (every pixel {arr.flat[0]}); intensity normalisation would divide by zero.",
            )
        spacing = np.asarray(meta[MammoKeys.SPACING], dtype=np.float64)
        affine = np.diag([spacing[0], spacing[1], 1.0, 1.0])
        meta[MetaKeys.SPATIAL_SHAPE] = np.asarray(arr.shape[:2])
        meta[MetaKeys.ORIGINAL_CHANNEL_DIM] = -1 if arr.ndim == 3 else float("nan")
        meta[MetaKeys.AFFINE] = affine
        meta[MetaKeys.ORIGINAL_AFFINE] = affine.copy()
        return np.ascontiguousarray(arr), {str(k): v for k, v in meta.items()}  # plain str keys, not enum members

    @staticmethod
    def _fail(mode: str, message: str) -> None:
        if mode == CheckMode.ERROR:
            raise MammoImageError(message)
        warnings.warn(message, stacklevel=3)
