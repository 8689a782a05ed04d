"""Networks (``nets``), layers (``layers``) and the network registry."""

from __future__ import annotations

# --- registry and networks ---
from . import nets as nets  # importing the networks registers them
from .registry import NetworkEntry as NetworkEntry
from .registry import get_network as get_network
from .registry import get_network_entry as get_network_entry
from .registry import list_networks as list_networks
from .registry import register_network as register_network
