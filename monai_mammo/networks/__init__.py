"""Networks (``nets``), layers (``layers``) and the network registry."""

from __future__ import annotations
