"""mini-MIAS: the Mammographic Image Analysis Society MiniMammographic Database (Suckling et al., 1994).

``Info.txt`` holds a free-text header, then one row per abnormality (several rows for an image with several
lesions)::

    REFNUM TISSUE CLASS [SEVERITY [X Y RADIUS]]
    mdb005 F CIRC B 477 133 30
    mdb006 F NORM
    mdb233 G CALC M *NOTE 3*

Coordinates: the x, y origin is the BOTTOM-left corner of the 1024 x 1024 image. Taking y as a 0-based pixel index
counted upwards (the bottom row is y = 0), the array position is ``row = 1023 - y``, ``col = x``; items hold
``[row, col]`` (the difference from the other common choice, ``1024 - y``, is one 200-micron pixel, well inside
every radius). Images ``mdb(2k-1)`` and ``mdb(2k)`` are the right and left breast of woman ``k``.

S. Suckling et al., "The Mammographic Image Analysis Society Digital Mammogram Database", Excerpta Medica,
International Congress Series 1069, pp. 375-378, 1994.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monai_mammo.data.reader import IMAGE_SUFFIXES
from monai_mammo.utils import BreastClass, Laterality, Modality, View

from .common import OnError, Problems, class_label, class_name, find_image

__all__ = ["MIAS_IMAGE_SIZE", "MiasLesion", "MiasRecord", "mias_items", "mias_woman_id", "parse_mias_info"]

#: Height and width of every mini-MIAS image.
MIAS_IMAGE_SIZE = 1024
MIAS_TISSUES = {"F": "fatty", "G": "fatty-glandular", "D": "dense-glandular"}
MIAS_CLASSES = ("CALC", "CIRC", "SPIC", "MISC", "ARCH", "ASYM", "NORM")
_ROW = re.compile(r"^\s*(mdb\d{3})\b(.*)$", re.IGNORECASE)


@dataclass
class MiasLesion:
    """One abnormality row: class, severity (``"B"``/``"M"``), centre as array ``(row, col)`` and radius."""

    abnormality: str
    severity: str
    center: tuple[int, int] | None = None
    radius: int | None = None


@dataclass
class MiasRecord:
    """Everything ``Info.txt`` says about one image."""

    refnum: str
    tissue: str
    normal: bool
    lesions: list[MiasLesion] = field(default_factory=list)
    line: int = 0

    @property
    def label(self) -> int:
        """normal=0 if NORM, malignant=2 if any lesion is malignant, else benign=1."""
        if self.normal:
            return class_label(BreastClass.NORMAL)
        if any(lesion.severity == "M" for lesion in self.lesions):
            return class_label(BreastClass.MALIGNANT)
        return class_label(BreastClass.BENIGN)


def mias_woman_id(refnum: str) -> str:
    """Woman of an image: ``mdb001`` and ``mdb002`` -> ``"mias_001"``, ``mdb003`` -> ``"mias_002"``."""
    number = int(re.sub(r"\D", "", refnum))
    return f"mias_{(number + 1) // 2:03d}"


def _parse_row(tokens: list[str]) -> tuple[str, str, MiasLesion | None]:
    """``(tissue, class, lesion or None for NORM)`` of one row's tokens after REFNUM; ValueError if malformed."""
    if len(tokens) < 2:
        raise ValueError("expected at least REFNUM TISSUE CLASS")
    tissue, abnormality = tokens[0].upper(), tokens[1].upper()
    if tissue not in MIAS_TISSUES:
        raise ValueError(f"unknown tissue {tokens[0]!r}, expected one of {sorted(MIAS_TISSUES)}")
    if abnormality not in MIAS_CLASSES:
        raise ValueError(f"unknown class {tokens[1]!r}, expected one of {list(MIAS_CLASSES)}")
    rest = tokens[2:]
    if abnormality == "NORM":
        if rest:
            raise ValueError(f"a NORM row has no severity or coordinates, got {' '.join(rest)!r}")
        return tissue, abnormality, None
    if not rest or rest[0].upper() not in ("B", "M"):
        raise ValueError(f"an abnormal row needs severity B or M, got {' '.join(rest) or 'nothing'!r}")
    lesion = MiasLesion(abnormality, rest[0].upper())
    coords = rest[1:]
    if not coords or coords[0].startswith("*"):  # '*NOTE 3*': calcifications spread over the breast
        return tissue, abnormality, lesion
    if len(coords) != 3 or not all(c.isdigit() for c in coords):
        raise ValueError(f"expected integer X Y RADIUS, got {' '.join(coords)!r}")
    x, y, radius = (int(c) for c in coords)
    if not (0 <= x < MIAS_IMAGE_SIZE and 0 <= y < MIAS_IMAGE_SIZE and radius > 0):
        raise ValueError(f"X Y RADIUS = {x} {y} {radius} lie outside the {MIAS_IMAGE_SIZE}-pixel image")
    lesion.center = (MIAS_IMAGE_SIZE - 1 - y, x)
    lesion.radius = radius
    return tissue, abnormality, lesion


def parse_mias_info(path: str | os.PathLike, on_error: str = OnError.RAISE) -> dict[str, MiasRecord]:
    """Parse ``Info.txt`` into one :class:`MiasRecord` per image, in file order.

    Args:
        path: the ``Info.txt`` file.
        on_error: ``"raise"`` a ``ValueError`` naming the file and line at the first malformed row, or
            ``"warn"``: leave out every image with a malformed row, and warn once with the count.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: for a malformed row (``on_error="raise"``) or a file without any ``mdbNNN`` row.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MIAS Info.txt not found at {path}; point ROOT at the folder holding Info.txt.")
    problems = Problems(path, on_error)
    records: dict[str, MiasRecord] = {}
    bad: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        match = _ROW.match(line)
        if match is None:
            continue
        refnum = match.group(1).lower()
        try:
            tissue, abnormality, lesion = _parse_row(match.group(2).split())
            record = records.setdefault(refnum, MiasRecord(refnum, tissue, abnormality == "NORM", line=number))
            if record.tissue != tissue or record.normal != (abnormality == "NORM"):
                raise ValueError(f"contradicts an earlier row of {refnum} (line {record.line})")
        except ValueError as e:
            bad.add(refnum)
            problems(f"{path}, line {number} ({line.strip()!r}): {e}")
            continue
        if lesion is not None:
            record.lesions.append(lesion)
    for refnum in bad:
        records.pop(refnum, None)
    problems.finish()
    if not records and not bad:
        raise ValueError(f"{path} holds no 'mdbNNN ...' rows; is it the MIAS Info.txt?")
    return records


def mias_items(
    root: str | os.PathLike,
    info_file: str | os.PathLike = "Info.txt",
    image_dir: str | os.PathLike | None = None,
    on_error: str = OnError.RAISE,
) -> list[dict[str, Any]]:
    """Datalist items of mini-MIAS, one per image listed in ``Info.txt``.

    Images may be PNG, PGM or JPG (``mdb001.pgm`` ...). Each item holds ``image`` (absolute path), ``label``
    (normal=0, benign=1, malignant=2), ``class_name``, ``modality`` (``"MG"``), ``patient_id`` (the woman,
    ``mias_001`` for mdb001 and mdb002), ``laterality`` (even numbers left), ``view`` (``"MLO"``), ``refnum``,
    ``tissue`` (F/G/D), ``abnormalities`` and ``severities`` (one per lesion row), and ``centers``
    (``[row, col]`` array coordinates) with ``radii`` for the lesions that have coordinates.

    Args:
        root: folder holding ``Info.txt`` and the images.
        info_file: ``Info.txt`` path, relative to ``root`` unless absolute.
        image_dir: folder of the images; default ``root``.
        on_error: ``"raise"`` at a malformed row or a listed image missing on disk, or ``"warn"`` and leave it out.

    Raises:
        FileNotFoundError: for a missing ``Info.txt`` or image (``on_error="raise"``).
        ValueError: for a malformed row (``on_error="raise"``).
    """
    root = Path(root)
    info_path = root / info_file
    folder = Path(image_dir) if image_dir is not None else root
    records = parse_mias_info(info_path, on_error)
    problems = Problems(folder, on_error)
    items = []
    for refnum, record in records.items():
        image = find_image(folder, refnum, IMAGE_SUFFIXES)
        if image is None:
            problems(
                f"{info_path}, line {record.line}: image {refnum} not found in {folder} as {'/'.join(IMAGE_SUFFIXES)}",
                FileNotFoundError,
            )
            continue
        located = [lesion for lesion in record.lesions if lesion.center is not None]
        items.append(
            {
                "image": os.path.abspath(image),
                "label": record.label,
                "class_name": class_name(record.label),
                "modality": Modality.MG.value,
                "patient_id": mias_woman_id(refnum),
                "laterality": (Laterality.LEFT if int(refnum[3:]) % 2 == 0 else Laterality.RIGHT).value,
                "view": View.MLO.value,
                "refnum": refnum,
                "tissue": record.tissue,
                "abnormalities": [lesion.abnormality for lesion in record.lesions],
                "severities": [lesion.severity for lesion in record.lesions],
                "centers": [list(lesion.center) for lesion in located if lesion.center is not None],
                "radii": [lesion.radius for lesion in located],
            }
        )
    problems.finish()
    return items
