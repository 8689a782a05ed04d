"""Low-resolution / high-resolution pairs for super-resolution: antialiased bicubic downsampling, blur, noise.

The degradation of SRGAN-STN-ResNet50 (Swapna & Vijaya Kumar, 2026) and of SRGAN (Ledig et al., CVPR 2017):
the LR image is the HR image blurred (optionally), downsampled bicubically by 2 or 4, and noised (optionally).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data import MetaTensor
from monai.transforms import MapTransform, RandomizableTransform, Transform
from monai.utils import StrEnum, TransformBackends, ensure_tuple, look_up_option
from monai.utils.type_conversion import convert_to_dst_type, convert_to_tensor

from .utils import check_image

__all__ = [
    "Divisible",
    "MakeLowResolution",
    "MakeLowResolutiond",
    "RandMakeLowResolution",
    "RandMakeLowResolutiond",
]


class Divisible(StrEnum):
    """What to do with an HR image whose size is not a multiple of the factor."""

    ERROR = "error"
    CROP = "crop"  # crop the bottom/right remainder off (the dict version crops the HR too)


def _gaussian_blur(t: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)``, reflect padding (torch has no 2D Gaussian filter op)."""
    radius = max(1, int(np.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=t.dtype, device=t.device)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    c = t.shape[1]
    t = F.conv2d(F.pad(t, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(t, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


class MakeLowResolution(Transform):
    """Make the low-resolution image of an HR image ``(C, H, W)``.

    ``blur (sigma) -> bicubic antialiased downsampling by factor -> + Gaussian noise (noise_std)``, clipped to
    ``clip_range`` if given. A ``MetaTensor`` keeps its metadata; ``meta["spacing"]`` is multiplied by the factor
    and the affine scaled (pixel centres stay aligned with the HR ones).

    Args:
        factor: the downsampling factor, 2 or 4 (any integer >= 2 is accepted).
        sigma: standard deviation (HR pixels) of a Gaussian blur before downsampling (0: none).
        noise_std: standard deviation of Gaussian noise added to the LR image (0: none).
        divisible: ``"error"`` (default) or ``"crop"`` for an HR size not a multiple of ``factor``.
        clip_range: ``(low, high)`` to clip the LR image to, e.g. ``(0, 1)`` (``None``: no clipping).
        seed: seed of the noise generator (``None``: torch's global generator).

    Raises:
        ValueError: a bad argument; an HR size not divisible by ``factor`` with ``divisible="error"``.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        factor: int = 4,
        sigma: float = 0.0,
        noise_std: float = 0.0,
        divisible: str = Divisible.ERROR,
        clip_range: Sequence[float] | None = None,
        seed: int | None = None,
    ) -> None:
        if int(factor) != factor or factor < 2:
            raise ValueError(f"factor must be an integer >= 2 (2 or 4 for SRGAN), got {factor}.")
        if sigma < 0 or noise_std < 0:
            raise ValueError(f"sigma and noise_std must be >= 0, got sigma={sigma}, noise_std={noise_std}.")
        if clip_range is not None and (len(clip_range) != 2 or clip_range[0] >= clip_range[1]):
            raise ValueError(f"clip_range must be None or (low, high) with low < high, got {clip_range}.")
        self.factor, self.sigma, self.noise_std = int(factor), float(sigma), float(noise_std)
        self.divisible = Divisible(look_up_option(divisible, Divisible))
        self.clip_range = None if clip_range is None else tuple(clip_range)
        self.seed = seed

    def crop_to_divisible(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        """``img`` with its bottom/right remainder cropped off (``divisible="crop"``) or checked (``"error"``)."""
        h, w = int(img.shape[-2]), int(img.shape[-1])
        if h % self.factor == 0 and w % self.factor == 0:
            return img
        if self.divisible == Divisible.ERROR:
            raise ValueError(
                f"the HR size {h} x {w} is not divisible by factor={self.factor}; crop it first or use "
                "divisible='crop'."
            )
        h2, w2 = h - h % self.factor, w - w % self.factor
        if h2 == 0 or w2 == 0:
            raise ValueError(f"the HR size {h} x {w} is smaller than factor={self.factor}.")
        return img[..., :h2, :w2]

    def __call__(
        self, img: NdarrayOrTensor, sigma: float | None = None, noise_std: float | None = None, seed: int | None = None
    ) -> NdarrayOrTensor:
        """The LR image of ``img``; ``sigma``, ``noise_std`` and ``seed`` override the instance's (for random use)."""
        check_image(img)
        if img.ndim != 3:
            raise ValueError(f"img must be channel-first 2D (C, H, W), got shape {tuple(img.shape)}.")
        sigma = self.sigma if sigma is None else sigma
        noise_std = self.noise_std if noise_std is None else noise_std
        seed = self.seed if seed is None else seed
        hr = self.crop_to_divisible(img)
        t = convert_to_tensor(hr, track_meta=False, dtype=torch.float32)[None]
        if sigma > 0:
            t = _gaussian_blur(t, sigma)
        size = (t.shape[-2] // self.factor, t.shape[-1] // self.factor)
        lr = F.interpolate(t, size=size, mode="bicubic", antialias=True, align_corners=False)[0]
        if noise_std > 0:
            gen = None if seed is None else torch.Generator(device=lr.device).manual_seed(int(seed))
            lr = lr + noise_std * torch.randn(lr.shape, generator=gen, dtype=lr.dtype, device=lr.device)
        if self.clip_range is not None:
            lr = lr.clamp(self.clip_range[0], self.clip_range[1])
        if isinstance(hr, MetaTensor):
            meta = dict(hr.meta)
            affine = hr.affine.clone().to(torch.float64)
            scale = torch.eye(affine.shape[0], dtype=torch.float64)
            for i in range(2):
                scale[i, i] = self.factor
                scale[i, -1] = (self.factor - 1) / 2.0  # LR pixel i covers HR pixels [f*i, f*i + f)
            meta["affine"] = affine @ scale
            if "spacing" in meta:
                meta["spacing"] = np.asarray(meta["spacing"], dtype=np.float64) * self.factor
            meta["spatial_shape"] = np.asarray(size)
            meta["sr_factor"] = self.factor
            return MetaTensor(lr, meta=meta)
        return convert_to_dst_type(lr, img, dtype=lr.dtype)[0]


class MakeLowResolutiond(MapTransform):
    """Dictionary version of :class:`MakeLowResolution`: writes the LR image of each key to its ``lr_keys`` entry
    and keeps the HR (cropped to a multiple of the factor with ``divisible="crop"``, so the pair stays aligned).

    Args:
        keys: keys of the HR images.
        lr_keys: one output key per key (default ``"lr"``).
        factor, sigma, noise_std, divisible, clip_range, seed: as in :class:`MakeLowResolution`.
        allow_missing_keys: do not raise for a missing key.
    """

    backend = MakeLowResolution.backend

    def __init__(
        self,
        keys: KeysCollection,
        lr_keys: KeysCollection = "lr",
        factor: int = 4,
        sigma: float = 0.0,
        noise_std: float = 0.0,
        divisible: str = Divisible.ERROR,
        clip_range: Sequence[float] | None = None,
        seed: int | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.lr_keys = ensure_tuple(lr_keys)
        if len(self.lr_keys) != len(self.keys):
            raise ValueError(f"lr_keys must give one key per key: {len(self.keys)} keys, lr_keys={self.lr_keys}.")
        self.maker = MakeLowResolution(factor, sigma, noise_std, divisible, clip_range, seed)

    def apply(self, d: dict, sigma: float | None = None, noise_std: float | None = None, seed: int | None = None):
        for key, lr_key in self.key_iterator(d, self.lr_keys):
            d[key] = self.maker.crop_to_divisible(d[key])
            d[lr_key] = self.maker(d[key], sigma=sigma, noise_std=noise_std, seed=seed)
        return d

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        return self.apply(dict(data))


class RandMakeLowResolution(RandomizableTransform):
    """:class:`MakeLowResolution` with a random blur sigma and noise level, drawn by ``randomize``.

    With probability ``1 - prob`` neither blur nor noise is applied (plain bicubic downsampling, so the output
    is always the LR image).

    Args:
        factor, divisible, clip_range: as in :class:`MakeLowResolution`.
        sigma_range: ``(low, high)`` of the uniformly drawn blur sigma.
        noise_std_range: ``(low, high)`` of the uniformly drawn noise standard deviation.
        prob: probability of the random degradation.
    """

    backend = MakeLowResolution.backend

    def __init__(
        self,
        factor: int = 4,
        sigma_range: Sequence[float] = (0.0, 1.0),
        noise_std_range: Sequence[float] = (0.0, 0.02),
        prob: float = 1.0,
        divisible: str = Divisible.ERROR,
        clip_range: Sequence[float] | None = None,
    ) -> None:
        RandomizableTransform.__init__(self, prob)
        for name, rng in (("sigma_range", sigma_range), ("noise_std_range", noise_std_range)):
            if len(rng) != 2 or not 0 <= rng[0] <= rng[1]:
                raise ValueError(f"{name} must be (low, high) with 0 <= low <= high, got {rng}.")
        self.sigma_range, self.noise_std_range = tuple(sigma_range), tuple(noise_std_range)
        self.maker = MakeLowResolution(factor, 0.0, 0.0, divisible, clip_range)
        self.sigma, self.noise_std, self.noise_seed = 0.0, 0.0, 0

    def randomize(self, data=None) -> None:
        super().randomize(None)
        if not self._do_transform:
            self.sigma, self.noise_std = 0.0, 0.0
            return
        self.sigma = float(self.R.uniform(self.sigma_range[0], self.sigma_range[1]))
        self.noise_std = float(self.R.uniform(self.noise_std_range[0], self.noise_std_range[1]))
        self.noise_seed = int(self.R.randint(0, 2**31 - 1))

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> NdarrayOrTensor:
        if randomize:
            self.randomize()
        return self.maker(img, sigma=self.sigma, noise_std=self.noise_std, seed=self.noise_seed)


class RandMakeLowResolutiond(RandomizableTransform, MapTransform):
    """Dictionary version of :class:`RandMakeLowResolution`: one draw per call, applied to every key.

    Args:
        keys, lr_keys: as in :class:`MakeLowResolutiond`.
        factor, sigma_range, noise_std_range, prob, divisible, clip_range: as in :class:`RandMakeLowResolution`.
        allow_missing_keys: do not raise for a missing key.
    """

    backend = MakeLowResolution.backend

    def __init__(
        self,
        keys: KeysCollection,
        lr_keys: KeysCollection = "lr",
        factor: int = 4,
        sigma_range: Sequence[float] = (0.0, 1.0),
        noise_std_range: Sequence[float] = (0.0, 0.02),
        prob: float = 1.0,
        divisible: str = Divisible.ERROR,
        clip_range: Sequence[float] | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.rand = RandMakeLowResolution(factor, sigma_range, noise_std_range, prob, divisible, clip_range)
        self.dict_maker = MakeLowResolutiond(keys, lr_keys, factor, divisible=divisible, clip_range=clip_range)
        self.dict_maker.allow_missing_keys = allow_missing_keys

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        self.rand.set_random_state(seed, state)
        return self

    def randomize(self, data=None) -> None:
        self.rand.randomize()

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        self.randomize()
        return self.dict_maker.apply(
            dict(data), sigma=self.rand.sigma, noise_std=self.rand.noise_std, seed=self.rand.noise_seed
        )
