"""LoadMammogram / LoadMammogramd: MONAI's ``LoadImage`` / ``LoadImaged`` with :class:`MammoReader` fixed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from monai.config import DtypeLike, KeysCollection, PathLike
from monai.data import ImageReader
from monai.transforms import LoadImage, LoadImaged, MapTransform
from monai.utils import PostFix, ensure_tuple, ensure_tuple_rep

from monai_mammo.data.reader import MammoReader

__all__ = ["LoadMammogram", "LoadMammogramd"]


class LoadMammogram(LoadImage):
    """Load a mammogram or breast ultrasound image as a ``MetaTensor`` through :class:`MammoReader`.

    The DICOM display pipeline (modality LUT, VOI LUT, MONOCHROME1 inversion) is applied, the array is
    float32 ``(C, H, W)`` with H = rows and W = columns (no transpose), and the metadata (laterality, view,
    spacing, window, UIDs, ...; keys in :class:`monai_mammo.utils.MammoKeys`) is in ``img.meta``.
    Errors are raised as they come from the reader (:class:`MammoImageError`, a ``ValueError`` naming the
    file), not wrapped in ``LoadImage``'s "cannot find a suitable reader" ``RuntimeError``.

    Args:
        image_only: return only the ``MetaTensor`` (default), else ``(image, metadata)``.
        dtype: output dtype (float32).
        ensure_channel_first: add / move the channel axis first (default ``True``: ``(1, H, W)``).
        simple_keys: as in ``monai.transforms.LoadImage``.
        prune_meta_pattern: as in ``monai.transforms.LoadImage``.
        prune_meta_sep: as in ``monai.transforms.LoadImage``.
        expanduser: as in ``monai.transforms.LoadImage``.
        reader_args: the options of :class:`~monai_mammo.data.reader.MammoReader` (``apply_voi``, ``window``,
            ``prefer_voi_lut``, ``color_mode``, ``grey_tolerance``, ``modality_check``, ``allowed_modalities``,
            ``constant``, ``modality``), documented there.

    Example:
        >>> load = LoadMammogram(window="widest")
        >>> img = load("case/1-1.dcm")  # doctest: +SKIP
        >>> img.shape, img.meta["view"], img.meta["laterality"]  # doctest: +SKIP
        (torch.Size([1, 4680, 2576]), 'MLO', 'L')
    """

    def __init__(
        self,
        image_only: bool = True,
        dtype: DtypeLike | None = np.float32,
        ensure_channel_first: bool = True,
        simple_keys: bool = False,
        prune_meta_pattern: str | None = None,
        prune_meta_sep: str = ".",
        expanduser: bool = True,
        **reader_args: Any,
    ) -> None:
        self.reader = MammoReader(**reader_args)
        # LoadImage.__init__ is not called: it instantiates every MONAI reader, and NvImgCodecPydicomReader's
        # constructor registers a decoder plugin in pydicom for the whole process (and warns without nvImageCodec).
        # These are the attributes LoadImage.__call__ uses (a test checks they match LoadImage's).
        self.auto_select = False
        self.image_only = image_only
        self.dtype = dtype
        self.ensure_channel_first = ensure_channel_first
        self.simple_keys = simple_keys
        self.pattern = prune_meta_pattern
        self.sep = prune_meta_sep
        self.expanduser = expanduser
        self.readers = [self.reader]  # only ours: no fallback to MONAI's readers, which would transpose PNGs

    def __call__(self, filename: Sequence[PathLike] | PathLike, reader: ImageReader | None = None):
        """Load ``filename`` (a list of files is stacked as channels); ``reader`` overrides the reader."""
        return super().__call__(filename, reader=reader if reader is not None else self.reader)


class LoadMammogramd(LoadImaged):
    """Dictionary version of :class:`LoadMammogram` (MONAI's ``LoadImaged`` with :class:`MammoReader`).

    Args:
        keys: keys of the file names to load.
        dtype: output dtype (float32).
        meta_keys: as in ``monai.transforms.LoadImaged``.
        meta_key_postfix: as in ``monai.transforms.LoadImaged``.
        overwriting: as in ``monai.transforms.LoadImaged``.
        image_only: return only the ``MetaTensor`` (default), else also ``{key}_meta_dict``.
        ensure_channel_first: add / move the channel axis first (default ``True``).
        simple_keys: as in ``monai.transforms.LoadImaged``.
        prune_meta_pattern: as in ``monai.transforms.LoadImaged``.
        prune_meta_sep: as in ``monai.transforms.LoadImaged``.
        expanduser: as in ``monai.transforms.LoadImaged``.
        allow_missing_keys: do not raise for a missing key.
        reader_args: the options of :class:`~monai_mammo.data.reader.MammoReader`, as in :class:`LoadMammogram`.
    """

    def __init__(
        self,
        keys: KeysCollection,
        dtype: DtypeLike | None = np.float32,
        meta_keys: KeysCollection | None = None,
        meta_key_postfix: str = PostFix.meta(),
        overwriting: bool = False,
        image_only: bool = True,
        ensure_channel_first: bool = True,
        simple_keys: bool = False,
        prune_meta_pattern: str | None = None,
        prune_meta_sep: str = ".",
        expanduser: bool = True,
        allow_missing_keys: bool = False,
        **reader_args: Any,
    ) -> None:
        loader = LoadMammogram(
            image_only=image_only,
            dtype=dtype,
            ensure_channel_first=ensure_channel_first,
            simple_keys=simple_keys,
            prune_meta_pattern=prune_meta_pattern,
            prune_meta_sep=prune_meta_sep,
            expanduser=expanduser,
            **reader_args,
        )
        # as LoadImaged.__init__, without the LoadImage it would build (see LoadMammogram)
        MapTransform.__init__(self, keys, allow_missing_keys)
        self._loader = loader
        if not isinstance(meta_key_postfix, str):
            raise TypeError(f"meta_key_postfix must be a str but is {type(meta_key_postfix).__name__}.")
        self.meta_keys = ensure_tuple_rep(None, len(self.keys)) if meta_keys is None else ensure_tuple(meta_keys)
        if len(self.keys) != len(self.meta_keys):
            raise ValueError(f"meta_keys must have one entry per key, got {len(self.keys)} and {len(self.meta_keys)}.")
        self.meta_key_postfix = ensure_tuple_rep(meta_key_postfix, len(self.keys))
        self.overwriting = overwriting
