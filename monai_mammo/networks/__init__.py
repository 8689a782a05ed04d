"""Networks (``nets``), layers (``layers``) and the network registry."""

from __future__ import annotations

# --- registry and networks ---
from . import nets as nets  # importing the networks registers them
from .registry import NetworkEntry as NetworkEntry
from .registry import get_network as get_network
from .registry import get_network_entry as get_network_entry
from .registry import list_networks as list_networks
from .registry import register_network as register_network

# --- weight files and cross-modal weight transfer ---
from .weight_transfer import BatchNormMode as BatchNormMode
from .weight_transfer import interpolate_weights as interpolate_weights
from .weight_transfer import recompute_batch_norm as recompute_batch_norm
from .weights import load_network_state as load_network_state
from .weights import save_network_state as save_network_state
