"""Mixed precision for CPU training: an inferer that runs the network under bfloat16 autocast.

MONAI's engines take ``amp=True`` only as CUDA's float16 autocast with a gradient scaler. On a CPU with native
bfloat16 (AVX512-BF16 or AMX), PyTorch's CPU autocast runs convolutions and matrix products in bfloat16 (the
classifier bundle's epochs take about 30 % less time on the 2-core test machine); bfloat16 keeps float32's exponent
range, so no gradient scaler is needed. The inferer wraps only
the forward pass (autograd replays it in the same precisions) and hands float32 outputs to the loss and the metrics.
"""

from __future__ import annotations

from typing import Any

import torch
from monai.inferers import Inferer

__all__ = ["AutocastInferer", "SelfEnsembleInferer", "cpu_supports_bfloat16"]


def cpu_supports_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX, through oneDNN).

    Without it PyTorch emulates bfloat16 on the CPU, slower than float32, so the bundles' ``cpu_amp`` default
    is this function's answer.
    """
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = set(f.read().split())
    except OSError:  # not Linux: no way to ask without a native call; stay in float32
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def _float32(value: Any) -> Any:
    return value.float() if isinstance(value, torch.Tensor) and value.is_floating_point() else value


class AutocastInferer(Inferer):
    """Run the network under ``torch.autocast`` (bfloat16 by default) and return float32 outputs.

    Args:
        enabled: autocast on or off (off: a plain ``network(inputs)``, as MONAI's ``SimpleInferer``).
        dtype: the autocast precision; bfloat16 (float16 on a CPU is slow and needs a gradient scaler).

    Example:
        >>> inferer = AutocastInferer(enabled=True)
        >>> inferer(torch.zeros(1, 4), torch.nn.Linear(4, 2)).dtype
        torch.float32
    """

    def __init__(self, enabled: bool = True, dtype: torch.dtype = torch.bfloat16) -> None:
        super().__init__()
        if not isinstance(enabled, bool):
            raise TypeError(f"AutocastInferer: enabled must be true or false, got {enabled!r}.")
        self.enabled = enabled
        self.dtype = dtype

    def __call__(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.enabled:
            return network(inputs, *args, **kwargs)
        with torch.autocast(device_type=inputs.device.type, dtype=self.dtype):
            outputs = network(inputs, *args, **kwargs)
        if isinstance(outputs, torch.Tensor):
            return _float32(outputs)
        if isinstance(outputs, dict):
            return {k: _float32(v) for k, v in outputs.items()}
        return outputs


class SelfEnsembleInferer(Inferer):
    """Geometric self-ensemble (Lim et al., 2017, "EDSR+"; Timofte et al., 2016): the mean of the network's outputs
    on the 8 rotations and flips of the input's last two spatial axes, each mapped back.

    For networks whose output is an image aligned with the input (super-resolution, segmentation logits): the
    ensemble costs 8 forward passes and no training. MONAI's ``TestTimeAugmentation`` draws random invertible
    transforms through a dataset; this is the deterministic dihedral ensemble that SR papers report, as an inferer
    an evaluator takes directly.

    Args:
        enabled: the ensemble on or off (off: a plain ``network(inputs)``, as MONAI's ``SimpleInferer``).
        inferer: runs each forward pass (e.g. :class:`AutocastInferer`); default a plain call.

    Example:
        >>> net = torch.nn.Conv2d(1, 1, 3, padding=1)
        >>> SelfEnsembleInferer()(torch.zeros(1, 1, 8, 6), net).shape
        torch.Size([1, 1, 8, 6])
    """

    def __init__(self, enabled: bool = True, inferer: Inferer | None = None) -> None:
        super().__init__()
        if not isinstance(enabled, bool):
            raise TypeError(f"SelfEnsembleInferer: enabled must be true or false, got {enabled!r}.")
        self.enabled = enabled
        self.inferer = inferer

    def _forward(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self.inferer is None:
            return network(inputs, *args, **kwargs)
        return self.inferer(inputs, network, *args, **kwargs)

    def __call__(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.enabled:
            return self._forward(inputs, network, *args, **kwargs)
        if inputs.ndim < 4:
            raise ValueError(
                f"SelfEnsembleInferer: inputs must be (N, C, *spatial) with 2 or more spatial axes, got shape "
                f"{tuple(inputs.shape)}."
            )
        axes = (inputs.ndim - 2, inputs.ndim - 1)
        total: torch.Tensor | None = None
        for flip in (False, True):
            for k in range(4):
                x = torch.rot90(inputs, k, axes)
                x = x.flip(axes[1]) if flip else x
                y = self._forward(x, network, *args, **kwargs)
                if not isinstance(y, torch.Tensor):
                    raise TypeError(f"SelfEnsembleInferer: the network must return a tensor, got {type(y).__name__}.")
                y = y.flip(axes[1]) if flip else y
                y = torch.rot90(y, -k, axes).float()
                total = y if total is None else total + y
        assert total is not None
        return total / 8.0
