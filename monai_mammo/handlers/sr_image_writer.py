"""An Ignite handler that writes super-resolved images atomically."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from monai.utils import IgniteInfo, StrEnum, look_up_option, min_version, optional_import
from monai.utils.enums import CommonKeys as Keys

from monai_mammo.utils import atomic_write

__all__ = ["SRImageFormat", "SRImageWriter"]


if TYPE_CHECKING:
    from ignite.engine import Engine, Events
else:
    Engine, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Engine")
    Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")
Image, _ = optional_import("PIL.Image")


class SRImageFormat(StrEnum):
    """File format of :class:`SRImageWriter`."""

    PNG = "png"  # 16-bit grayscale PNG of value_range mapped to 0..65535
    NPY = "npy"  # float32 array (C, H, W)


class SRImageWriter:
    """Ignite handler writing each SR image of a batch to a file, atomically (temporary file + rename).

    At every ``ITERATION_COMPLETED`` it takes ``engine.state.output[output_key]`` (``(B, C, H, W)``) and, for
    file names, the source file of each item from ``engine.state.batch[name_key].meta["filename_or_obj"]``
    (its stem + ``suffix``), or a running index when there is none.

    Args:
        output_dir: folder of the files (created).
        output_key: key of the SR images in ``engine.state.output`` (a dict, or a list of per-item dicts).
        name_key: key of the batch whose metadata names the source files.
        file_format: ``"png"`` (16-bit, ``value_range`` mapped to 0..65535) or ``"npy"`` (float32).
        value_range: intensity range of the images, for PNG.
        suffix: appended to the source stem.

    Example:
        >>> SRImageWriter("out/sr").attach(evaluator)  # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir: str | os.PathLike,
        output_key: str = Keys.PRED,
        name_key: str = Keys.IMAGE,
        file_format: str = SRImageFormat.PNG,
        value_range: tuple[float, float] = (0.0, 1.0),
        suffix: str = "_sr",
    ) -> None:
        self.output_dir = Path(output_dir)
        self.output_key = output_key
        self.name_key = name_key
        self.file_format = SRImageFormat(look_up_option(file_format, SRImageFormat))
        low, high = (float(v) for v in value_range)
        if not high > low:
            raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}.")
        self.value_range = (low, high)
        self.suffix = suffix
        self.written: list[Path] = []
        self._count = 0

    def attach(self, engine: Engine) -> None:
        """Write at the end of every iteration of ``engine``."""
        if not engine.has_event_handler(self, Events.ITERATION_COMPLETED):
            engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def _images(self, output: Any) -> list[torch.Tensor]:
        if isinstance(output, dict):
            return list(torch.as_tensor(output[self.output_key]).detach().cpu())
        return [torch.as_tensor(item[self.output_key]).detach().cpu() for item in output]

    def _names(self, batch: Any, n: int) -> list[str]:
        names: list[str | None] = [None] * n
        source = batch.get(self.name_key) if isinstance(batch, dict) else None
        meta = getattr(source, "meta", None) or {}
        files = meta.get("filename_or_obj")
        if isinstance(files, (list, tuple)) and len(files) == n:
            names = [Path(str(f)).name.split(".")[0] if f else None for f in files]
        out = []
        for name in names:
            out.append(re.sub(r"[^\w.-]", "_", name) if name else f"image_{self._count:05d}")
            self._count += 1
        return out

    def write(self, image: torch.Tensor, stem: str) -> Path:
        """Write one ``(C, H, W)`` image as ``output_dir / (stem + suffix + .format)``; return the path."""
        path = self.output_dir / f"{stem}{self.suffix}.{self.file_format}"
        array = image.float().numpy()
        with atomic_write(path, "wb") as f:
            if self.file_format == SRImageFormat.NPY:
                np.save(f, array.astype(np.float32))
            else:
                low, high = self.value_range
                scaled = np.clip((array[0] - low) / (high - low), 0.0, 1.0) * 65535.0
                Image.fromarray(np.round(scaled).astype(np.uint16)).save(f, format="PNG")
        # the temporary file was created 0600; give group and others read access like a plain write
        os.chmod(path, os.stat(path).st_mode | stat.S_IRGRP | stat.S_IROTH)
        self.written.append(path)
        return path

    def __call__(self, engine: Engine) -> None:
        images = self._images(engine.state.output)
        for image, stem in zip(images, self._names(engine.state.batch, len(images)), strict=True):
            self.write(image, stem)
