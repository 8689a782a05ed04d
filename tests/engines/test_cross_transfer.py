"""The three phases of cross-dimensional transfer, interpolation, balanced sampling, limited labels, resume."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from ignite.engine import Events
from monai.data import Dataset
from monai.engines import SupervisedEvaluator
from monai.handlers import CheckpointLoader, from_engine
from monai.transforms import Activationsd
from torch.utils.data import DataLoader

from monai_mammo.engines import (
    AtomicCheckpointSaver,
    CrossModalTrainer,
    CrossModalTransfer,
    InverseTimeDecay,
    ModalityBalancedSampler,
    ModalityPrepareBatch,
    ModalitySumLoss,
    interpolate_weights,
    inverse_time_scheduler,
    limited_label_subset,
    load_network_state,
    modality_items,
    save_network_state,
)
from monai_mammo.metrics import ClassificationMetrics
from monai_mammo.networks.nets import CrossDimensionalClassifier

CPU = torch.device("cpu")


def items(n_mg: int = 12, n_us: int = 8, size: int = 16) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    out = []
    for i in range(n_mg + n_us):
        label = i % 3
        image = torch.rand(1, size, size, generator=g) + 0.5 * label  # learnable: brighter = higher class
        out.append({"image": image, "label": label, "modality": "MG" if i < n_mg else "US", "patient_id": f"P{i // 2}"})
    return out


def net(dropout: float = 0.2) -> CrossDimensionalClassifier:
    torch.manual_seed(0)
    return CrossDimensionalClassifier("small_cnn_classifier", backbone_kwargs={"channels": (4, 8)}, dropout=dropout)


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


def test_pretraining_sums_the_losses_of_both_modalities():
    t = trainer(net(), items(), balanced=True)
    t.run()
    out = t.state.output
    assert {"loss_MG", "loss_US"} <= set(out)
    torch.testing.assert_close(out["loss"].detach(), out["loss_MG"] + out["loss_US"])


def test_modality_sum_loss_is_the_sum_of_per_modality_means():
    pred, target = torch.randn(5, 3), torch.tensor([0, 1, 2, 0, 1])
    modality = torch.tensor([0, 0, 1, 1, 1])
    total, parts = ModalitySumLoss()(pred, target, modality)
    ce = torch.nn.functional.cross_entropy
    torch.testing.assert_close(parts["MG"], ce(pred[:2], target[:2]))
    torch.testing.assert_close(total, ce(pred[:2], target[:2]) + ce(pred[2:], target[2:]))


def test_finetuning_one_modality_leaves_the_other_head():
    network = net()
    mg_head = network.heads["MG"][1].weight.detach().clone()
    t = trainer(network, [d for d in items() if d["modality"] == "US"])
    t.run()
    assert set(k for k in t.state.output if k.startswith("loss_")) == {"loss_US"}
    torch.testing.assert_close(network.heads["MG"][1].weight, mg_head)


def test_transfer_picks_alpha_on_validation():
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


def test_transfer_needs_a_loader_to_recompute_batch_norm():
    network = net()
    with pytest.raises(ValueError, match="bn_loader"):
        CrossModalTransfer(network, {}, {}, evaluator(network, items()), bn_mode="recompute")


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_interpolation_endpoints_are_exact(alpha):
    a, b = net(), net()
    for p in b.parameters():
        p.data.add_(torch.randn_like(p) * 0.3)
    out = interpolate_weights(a.state_dict(), b.state_dict(), alpha)
    expected = a.state_dict() if alpha == 1.0 else b.state_dict()
    for key, value in out.items():
        if value.is_floating_point():
            assert torch.equal(value, expected[key]), key


def test_interpolation_leaves_integer_buffers_and_mixes_floats():
    a, b = net(), net()
    a(torch.rand(4, 1, 16, 16), "US")  # a train step: a's num_batches_tracked becomes 1
    for p in b.parameters():
        p.data.add_(1.0)
    names = [n for n, _ in a.named_parameters()]
    out = interpolate_weights(a.state_dict(), b.state_dict(), 0.25, names=names)
    sa, sb = a.state_dict(), b.state_dict()
    tracked = [k for k in out if k.endswith("num_batches_tracked")]
    assert tracked and all(torch.equal(out[k], sa[k]) and out[k].dtype == torch.long for k in tracked)
    assert any(sa[k] != sb[k] for k in tracked)
    running = [k for k in out if k.endswith("running_mean")]
    assert all(torch.equal(out[k], sa[k]) for k in running)  # buffers are w's, not interpolated
    key = "heads.US.1.weight"
    torch.testing.assert_close(out[key], 0.25 * sa[key] + 0.75 * sb[key])


def test_interpolation_checks_its_arguments():
    sd = net().state_dict()
    with pytest.raises(ValueError, match="alpha"):
        interpolate_weights(sd, sd, 1.5)
    with pytest.raises(ValueError, match="different keys"):
        interpolate_weights(sd, {k: v for k, v in sd.items() if "heads" not in k}, 0.5)


def test_balanced_sampler():
    modalities = ["MG"] * 10 + ["US"] * 3
    sampler = ModalityBalancedSampler(modalities, seed=1)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 20
    assert Counter(modalities[i] for i in drawn) == {"MG": 10, "US": 10}
    assert all(modalities[drawn[k]] != modalities[drawn[k + 1]] for k in range(0, 20, 2))  # interleaved
    assert drawn == list(ModalityBalancedSampler(modalities, seed=1))
    sampler.set_epoch(1)
    assert list(sampler) != drawn
    ranks = [list(ModalityBalancedSampler(modalities, seed=1, num_replicas=2, rank=r)) for r in (0, 1)]
    assert sorted(ranks[0] + ranks[1]) == sorted(drawn) and len(ranks[0]) == len(ranks[1]) == 10


def test_inverse_time_decay():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = inverse_time_scheduler(opt, beta=0.5)
    lrs = []
    for _ in range(3):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 2.0])
    assert InverseTimeDecay(0.0)(10) == 1.0
    assert "lr_lambdas" in sched.state_dict()


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


def test_a_stopped_phase_resumes(tmp_path):
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


def test_modality_items_and_saved_states(tmp_path):
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
