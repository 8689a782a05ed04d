"""Losses: pixel, VGG19 content and adversarial losses."""

from __future__ import annotations
