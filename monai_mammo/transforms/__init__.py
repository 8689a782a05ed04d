"""MONAI-style transforms for mammography and breast ultrasound (array ``X`` / dictionary ``Xd`` pairs)."""

from __future__ import annotations

# Each block below belongs to one module; add exports with a small edit to your own block.
# --- io ---
# --- intensity ---
# --- spatial ---
# --- ultrasound ---
# --- superres ---
