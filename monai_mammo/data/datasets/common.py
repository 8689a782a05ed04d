"""Pieces shared by the dataset builders: the bad-input policy, image suffixes and labels."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from monai.utils import StrEnum, look_up_option

from monai_mammo.data.reader import READABLE_SUFFIXES
from monai_mammo.utils import BreastClass

logger = logging.getLogger(__name__)

#: Image file suffixes the builders accept (lower case, compared case-insensitively).


class OnError(StrEnum):
    """What a builder does with a bad row or file: raise an error, or warn and leave it out."""

    RAISE = "raise"
    WARN = "warn"


class BadInputWarning(UserWarning):
    """Warned when a builder leaves out bad rows or files (``on_error="warn"``)."""


class Problems:
    """Collects bad rows of one source under an :class:`OnError` policy.

    With ``"raise"`` the first problem raises ``error_type(message)``; with ``"warn"`` each problem is
    logged and counted, and :meth:`finish` warns once with the count and the first messages.

    Args:
        source: what is read (a file or folder), named in the summary warning.
        on_error: ``"raise"`` or ``"warn"``.
    """

    def __init__(self, source: str | os.PathLike, on_error: str = OnError.RAISE) -> None:
        self.source = str(source)
        self.on_error = look_up_option(on_error, OnError)
        self.messages: list[str] = []

    def __call__(self, message: str, error_type: type[Exception] = ValueError) -> None:
        """Report one problem: raise, or remember it."""
        if self.on_error == OnError.RAISE:
            raise error_type(f"{message} (pass on_error='warn' / --on-error warn to leave such rows out)")
        logger.debug("left out: %s", message)
        self.messages.append(message)

    @property
    def count(self) -> int:
        """How many problems were left out so far."""
        return len(self.messages)

    def finish(self) -> int:
        """Warn once about everything left out; return the count."""
        if self.messages:
            shown = "\n  ".join(self.messages[:10])
            more = f"\n  ... and {self.count - 10} more" if self.count > 10 else ""
            warnings.warn(
                f"{self.source}: left out {self.count} bad row(s) or file(s):\n  {shown}{more}",
                BadInputWarning,
                stacklevel=3,
            )
        return self.count


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has a suffix the reader reads (:data:`~monai_mammo.data.reader.READABLE_SUFFIXES`)."""
    return path.suffix.lower() in READABLE_SUFFIXES


def find_image(folder: Path, stem: str, suffixes: Iterable[str] = READABLE_SUFFIXES) -> Path | None:
    """The first existing ``folder/stem<suffix>`` over ``suffixes`` (also upper-case suffixes), or None."""
    for suffix in suffixes:
        for candidate in (folder / f"{stem}{suffix}", folder / f"{stem}{suffix.upper()}"):
            if candidate.is_file():
                return candidate
    return None


def class_label(name: str | int) -> int:
    """Integer label (normal=0, benign=1, malignant=2, see :class:`~monai_mammo.utils.BreastClass`).

    Accepts a class name in any case (``"Benign"``) or an integer (or its string) in 0..2.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(name, int) or (isinstance(name, str) and name.strip().isdigit()):
        value = int(name)
        if 0 <= value < len(BreastClass):
            return value
        raise ValueError(f"label {name!r} is out of range; expected 0 (normal), 1 (benign) or 2 (malignant).")
    text = str(name).strip().lower()
    names = [c.value for c in BreastClass]
    if text in names:  # not BreastClass.index: str.index shadows that classmethod on a StrEnum
        return names.index(text)
    raise ValueError(f"unknown label {name!r}; expected one of {[c.value for c in BreastClass]} or 0, 1, 2.")


def class_name(label: int) -> str:
    """Class name of an integer label (1 -> ``"benign"``)."""
    return list(BreastClass)[int(label)].value
