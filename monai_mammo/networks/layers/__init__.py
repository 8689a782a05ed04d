"""Layers: Lanczos grid sampling and the blended Lanczos/bilinear sampler."""

from __future__ import annotations
