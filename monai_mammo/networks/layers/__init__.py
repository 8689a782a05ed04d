"""Layers: Lanczos grid sampling and the blended Lanczos/bilinear sampler."""

from __future__ import annotations

# --- lanczos sampler ---
from .blended import BlendedSampler as BlendedSampler
from .lanczos import LanczosBackend as LanczosBackend
from .lanczos import LanczosPadding as LanczosPadding
from .lanczos import lanczos_grid_sample as lanczos_grid_sample
from .lanczos import lanczos_grid_sample_reference as lanczos_grid_sample_reference
from .lanczos import lanczos_kernel as lanczos_kernel
from .lanczos import select_backend as select_backend
