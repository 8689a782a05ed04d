"""Networks of monai_mammo: SRGAN, spatial transformer, ResNet-50 classifier, full pipeline."""

from __future__ import annotations
