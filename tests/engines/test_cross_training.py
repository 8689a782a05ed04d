"""CrossModalTrainer and ModalityPrepareBatch: phases 1-2 of cross-dimensional transfer."""

from __future__ import annotations

import torch
from ignite.engine import Events
from monai.data import Dataset
from monai.handlers import CheckpointLoader
from torch.utils.data import DataLoader

from monai_mammo.data import ModalityBalancedSampler
from monai_mammo.engines import CrossModalTrainer, ModalityPrepareBatch
from monai_mammo.handlers import AtomicCheckpointSaver
from monai_mammo.networks import load_network_state

CPU = torch.device("cpu")


def trainer(network, data, epochs=1, balanced=False, seed=0):
    sampler = ModalityBalancedSampler([d["modality"] for d in data], seed=seed) if balanced else None
    loader = DataLoader(Dataset(data), batch_size=4, sampler=sampler, shuffle=sampler is None)
    opt = torch.optim.Adam(network.parameters(), 1e-3)
    return CrossModalTrainer(device=CPU, max_epochs=epochs, train_data_loader=loader, network=network, optimizer=opt)


def test_pretraining_sums_the_losses_of_both_modalities(items, net):
    t = trainer(net(), items(), balanced=True)
    t.run()
    out = t.state.output
    assert {"loss_MG", "loss_US"} <= set(out)
    torch.testing.assert_close(out["loss"].detach(), out["loss_MG"] + out["loss_US"])


def test_finetuning_one_modality_leaves_the_other_head(items, net):
    network = net()
    mg_head = network.heads["MG"][1].weight.detach().clone()
    t = trainer(network, [d for d in items() if d["modality"] == "US"])
    t.run()
    assert set(k for k in t.state.output if k.startswith("loss_")) == {"loss_US"}
    torch.testing.assert_close(network.heads["MG"][1].weight, mg_head)


def test_a_stopped_phase_resumes(items, net, tmp_path):
    data = items()

    def build():
        network = net(dropout=0.0)
        t = trainer(network, data, epochs=3, balanced=True)
        return network, t, {"network": network, "optimizer": t.optimizer, "trainer": t}

    ref_net, ref, _ = build()
    ref.run()

    network, first, save = build()
    AtomicCheckpointSaver(str(tmp_path), save, save_interval=1, n_saved=1, epoch_level=True).attach(first)
    first.add_event_handler(Events.EPOCH_COMPLETED(once=2), lambda e: e.terminate())
    first.run()
    assert first.state.epoch == 2
    checkpoint = sorted(tmp_path.glob("*.pt"))[-1]

    network, resumed, save = build()
    CheckpointLoader(str(checkpoint), save).attach(resumed)
    resumed.run()
    assert resumed.state.epoch == 3 and resumed.state.iteration == ref.state.iteration
    for (k, v), w in zip(network.state_dict().items(), ref_net.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, msg=k)
    assert load_network_state(checkpoint).keys() == network.state_dict().keys()


def test_prepare_batch_passes_the_modality():
    prepare = ModalityPrepareBatch(default_modality="US")
    batch = {"image": torch.zeros(3, 1, 4, 4), "label": torch.tensor([[0], [1], [2]]), "modality": ["US", "MG", "us"]}
    _, label, args, kwargs = prepare(batch)
    assert kwargs["modality"].tolist() == [1, 0, 1] and label.tolist() == [0, 1, 2] and args == ()
    _, no_label, _, kwargs = prepare({"image": torch.zeros(2, 1, 4, 4)})
    assert no_label is None and kwargs["modality"].tolist() == [1, 1]
