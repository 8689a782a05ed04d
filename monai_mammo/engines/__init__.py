"""Ignite workflows built on MONAI engines."""

from __future__ import annotations
