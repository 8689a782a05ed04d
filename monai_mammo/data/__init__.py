"""Reading breast images, dataset builders, splits and synthetic data."""

from __future__ import annotations

# Each block below belongs to one module; add exports with a small edit to your own block.
# --- reader ---
# --- datasets ---
# --- splits ---
# --- synthetic ---
