"""CrossModalTransfer: phase 3, the interpolation weight chosen on validation data."""

from __future__ import annotations

import pytest
import torch
from monai.data import Dataset
from monai.engines import SupervisedEvaluator
from monai.handlers import from_engine
from monai.transforms import Activationsd
from torch.utils.data import DataLoader

from monai_mammo.data import ModalityBalancedSampler
from monai_mammo.engines import CrossModalTrainer, CrossModalTransfer, ModalityPrepareBatch
from monai_mammo.metrics import ClassificationMetrics
from monai_mammo.networks import interpolate_weights

CPU = torch.device("cpu")


def trainer(network, data, epochs=1, balanced=False, seed=0):
    sampler = ModalityBalancedSampler([d["modality"] for d in data], seed=seed) if balanced else None
    loader = DataLoader(Dataset(data), batch_size=4, sampler=sampler, shuffle=sampler is None)
    opt = torch.optim.Adam(network.parameters(), 1e-3)
    return CrossModalTrainer(device=CPU, max_epochs=epochs, train_data_loader=loader, network=network, optimizer=opt)


def evaluator(network, data):
    metric = ClassificationMetrics(3, "auc", output_transform=from_engine(["pred", "label"]))
    return SupervisedEvaluator(
        device=CPU,
        val_data_loader=DataLoader(Dataset(data), batch_size=8),
        network=network,
        prepare_batch=ModalityPrepareBatch(),
        postprocessing=Activationsd("pred", softmax=True),
        key_val_metric={"val_auc": metric},
    )


def test_transfer_picks_alpha_on_validation(items, net):
    data = items()
    us = [d for d in data if d["modality"] == "US"]
    target, cross = net(), net()
    trainer(target, us).run()
    trainer(cross, [d for d in data if d["modality"] == "MG"]).run()
    network = net()
    transfer = CrossModalTransfer(
        network,
        target.state_dict(),
        cross.state_dict(),
        evaluator(network, us),
        alphas=(0.0, 0.5, 1.0),
        bn_mode="recompute",
        bn_loader=DataLoader(Dataset(us), batch_size=4),
    )
    transfer.run()
    scores = transfer.state.scores
    assert set(scores) == {0.0, 0.5, 1.0}
    best = transfer.state.metrics["alpha"]
    assert scores[best] == max(scores.values())
    expected = interpolate_weights(target.state_dict(), cross.state_dict(), best)
    torch.testing.assert_close(network.heads["US"][1].weight, expected["heads.US.1.weight"])


def test_transfer_needs_a_loader_to_recompute_batch_norm(items, net):
    network = net()
    with pytest.raises(ValueError, match="bn_loader"):
        CrossModalTransfer(network, {}, {}, evaluator(network, items()), bn_mode="recompute")
