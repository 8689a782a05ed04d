"""Subsets of datalist items: one modality, limited labels by patient."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from monai_mammo.data import limited_label_subset, modality_items
from monai_mammo.networks import load_network_state, save_network_state


def _labelled(n_patients: int) -> list[dict]:
    out = []
    for p in range(n_patients):
        for view in range(2):  # two images per patient
            out.append({"image": f"{p}_{view}.png", "label": p % 3, "patient_id": f"W{p}", "modality": "US"})
    out.append({"image": "mg.png", "label": 0, "modality": "MG", "patient_id": "M0"})
    return out


@pytest.mark.parametrize("fraction, per_class", [(0.1, 2), (0.25, 5), (1.0, 20)])
def test_limited_labels_sizes_and_patients(fraction, per_class):
    data = _labelled(60)  # 20 patients per class, 2 images each
    subset = limited_label_subset(data, fraction, seed=3, modality="US")
    us = [d for d in subset if d["modality"] == "US"]
    assert Counter(d["label"] for d in us) == {c: 2 * per_class for c in range(3)}
    patients = Counter(d["patient_id"] for d in us)
    assert set(patients.values()) == {2}, "a patient's images are kept or dropped together"
    assert any(d["modality"] == "MG" for d in subset), "the other modality is kept whole"


def test_limited_labels_are_deterministic_and_nested():
    data = _labelled(60)
    small = limited_label_subset(data, 0.1, seed=7)
    assert small == limited_label_subset(data, 0.1, seed=7)
    assert small != limited_label_subset(data, 0.1, seed=8)
    large = {d["image"] for d in limited_label_subset(data, 0.25, seed=7)}
    assert {d["image"] for d in small} <= large
    with pytest.raises(ValueError, match="fraction"):
        limited_label_subset(data, 0.0)


def test_modality_items_and_saved_states(items, net, tmp_path):
    data = items(n_mg=2, n_us=3)
    assert len(modality_items(data, "us")) == 3
    with pytest.raises(ValueError, match="no items of modality 'CT'"):
        modality_items(data, "CT")
    network = net()
    path = save_network_state(network, tmp_path / "phase" / "model.pt")
    state = load_network_state(path)
    assert all(torch.equal(state[k], v) for k, v in network.state_dict().items())
    with pytest.raises(FileNotFoundError, match="previous phase"):
        load_network_state(tmp_path / "missing.pt")
