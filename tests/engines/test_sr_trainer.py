"""Tests of monai_mammo.engines.sr_trainer: the SRGAN iteration, phases, AMP switch, checkpoint and resume."""

from __future__ import annotations

import copy

import pytest
import torch
from ignite.engine import Events
from monai.handlers import CheckpointLoader
from monai.utils import AdversarialKeys

from monai_mammo.engines import SRGANTrainer, SRPhase
from monai_mammo.handlers import AtomicCheckpointSaver


class TinyGenerator(torch.nn.Module):
    """x2 super-resolution: conv to 4 channels + PixelShuffle(2)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.shuffle = torch.nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))


def tiny_discriminator() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, stride=2),
        torch.nn.LeakyReLU(0.2),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 1),
    )


def g_adv_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(G(lr)) from logits (the tests use their own losses, not monai_mammo.losses)."""
    return torch.nn.functional.softplus(-fake_logits).mean()


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.softplus(-real_logits).mean() + torch.nn.functional.softplus(fake_logits).mean()


def batches(n: int = 3) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        hr = torch.rand(2, 1, 16, 16, generator=g)
        lr = torch.nn.functional.avg_pool2d(hr, 2)
        out.append({"lr": lr, "hr": hr, "mask": (hr > 0.2).float()})
    return out


def make_trainer(max_epochs: int = 1, pretrain_epochs: int = 0, data=None, **kwargs) -> SRGANTrainer:
    torch.manual_seed(0)
    g, d = TinyGenerator(), tiny_discriminator()
    return SRGANTrainer(
        device="cpu",
        max_epochs=max_epochs,
        train_data_loader=batches() if data is None else data,
        g_network=g,
        g_optimizer=torch.optim.Adam(g.parameters(), 1e-2),
        content_loss_function=torch.nn.L1Loss(),
        d_network=d,
        d_optimizer=torch.optim.Adam(d.parameters(), 1e-2),
        g_adv_loss_function=g_adv_loss,
        d_loss_function=d_loss,
        pretrain_epochs=pretrain_epochs,
        **kwargs,
    )


def params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))


def count_forwards(module: torch.nn.Module) -> list[int]:
    calls = [0]
    module.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


def test_gan_iteration_steps_both_networks_with_one_generator_forward():
    trainer = make_trainer()
    g0, d0 = params(trainer.g_network), params(trainer.d_network)
    g_calls, d_calls = count_forwards(trainer.g_network), count_forwards(trainer.d_network)
    trainer.run()
    out = trainer.state.output
    assert out["phase"] == SRPhase.GAN
    for key in ("loss", AdversarialKeys.RECONSTRUCTION_LOSS, AdversarialKeys.GENERATOR_LOSS, "discriminator_loss"):
        assert torch.isfinite(out[key]) and not out[key].requires_grad
    assert out["pred"].shape == (2, 1, 16, 16)
    assert changed(g0, trainer.g_network) and changed(d0, trainer.d_network)
    assert g_calls[0] == 3  # one generator forward per iteration
    assert d_calls[0] == 9  # real, detached fake, fake for the generator step
    assert all(p.requires_grad for p in trainer.d_network.parameters())  # unfrozen after the generator step


def test_generator_loss_is_content_plus_beta_adversarial():
    trainer = make_trainer(beta=0.5)
    trainer.run()
    out = trainer.state.output
    expected = out[AdversarialKeys.RECONSTRUCTION_LOSS] + 0.5 * out[AdversarialKeys.GENERATOR_LOSS]
    assert out["loss"] == pytest.approx(expected.item())


def test_pretrain_leaves_discriminator_untouched():
    trainer = make_trainer(max_epochs=1, pretrain_epochs=1)
    g0, d0 = params(trainer.g_network), params(trainer.d_network)
    d_calls = count_forwards(trainer.d_network)
    trainer.run()
    assert trainer.state.output["phase"] == SRPhase.PRETRAIN
    assert changed(g0, trainer.g_network) and not changed(d0, trainer.d_network)
    assert d_calls[0] == 0
    assert torch.isfinite(trainer.state.output["loss"])


def test_pretrain_only_needs_no_discriminator():
    g = TinyGenerator()
    trainer = SRGANTrainer("cpu", 1, batches(1), g, torch.optim.SGD(g.parameters(), 0.1), pretrain_epochs=1)
    trainer.run()
    assert trainer.state.output["loss"] == pytest.approx(trainer.state.output["reconstruction_loss"].item())
    assert "discriminator" not in trainer.checkpoint_dict()


def test_phase_switches_after_pretrain_epochs():
    trainer = make_trainer(max_epochs=2, pretrain_epochs=1)
    d0 = params(trainer.d_network)
    seen = {}

    @trainer.on(Events.EPOCH_COMPLETED)
    def record(engine):
        seen[engine.state.epoch] = (engine.state.output["phase"], changed(d0, engine.d_network))

    trainer.run()
    assert seen == {1: ("pretrain", False), 2: ("gan", True)}


def test_gan_epochs_need_a_discriminator():
    g = TinyGenerator()
    with pytest.raises(ValueError, match="d_network and d_optimizer"):
        SRGANTrainer("cpu", 2, batches(1), g, torch.optim.SGD(g.parameters(), 0.1), torch.nn.MSELoss())


def test_amp_is_off_on_cpu():
    trainer = make_trainer(amp=True)
    assert not trainer.amp and not trainer.g_scaler.is_enabled()
    trainer.run()
    assert torch.isfinite(trainer.state.output["loss"])


def test_checkpoint_and_resume_with_both_optimisers(tmp_path):
    first = make_trainer(max_epochs=2, pretrain_epochs=1)  # epoch 1 pretrain, epoch 2 GAN
    saver = AtomicCheckpointSaver(str(tmp_path), first.checkpoint_dict(), save_final=True, final_filename="final.pt")
    saver.attach(first)
    first.run()
    saved_g = copy.deepcopy(first.g_network.state_dict())
    saved_d = copy.deepcopy(first.d_network.state_dict())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.pt"]  # no temporary file left

    second = make_trainer(max_epochs=4, pretrain_epochs=1)
    second.g_network.conv.weight.data.add_(1.0)  # differs from the checkpoint until it is loaded
    CheckpointLoader(str(tmp_path / "final.pt"), second.checkpoint_dict()).attach(second)
    loaded = {}

    @second.on(Events.EPOCH_STARTED)
    def snapshot(engine):
        if engine.state.epoch == 3:
            loaded["g"] = copy.deepcopy(engine.g_network.state_dict())
            loaded["d"] = copy.deepcopy(engine.d_network.state_dict())
            loaded["g_steps"] = engine.g_optimizer.state_dict()["state"][0]["step"].item()
            loaded["d_steps"] = engine.d_optimizer.state_dict()["state"][0]["step"].item()

    epochs = []
    second.add_event_handler(Events.EPOCH_COMPLETED, lambda e: epochs.append((e.state.epoch, e.state.output["phase"])))
    second.run()
    assert epochs == [(3, "gan"), (4, "gan")]  # resumed after epoch 2: epochs 3 and 4 only
    assert second.state.iteration == 12
    for saved, key in ((saved_g, "g"), (saved_d, "d")):
        for name, value in saved.items():
            torch.testing.assert_close(loaded[key][name], value)
    assert loaded["g_steps"] == 6 and loaded["d_steps"] == 3  # both Adam states restored


def test_runs_with_distributed_data_parallel(tmp_path):
    """One-process gloo group: the frozen discriminator of the generator step must not stall DDP's reducer."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        torch.manual_seed(0)
        g = torch.nn.parallel.DistributedDataParallel(TinyGenerator())
        d = torch.nn.parallel.DistributedDataParallel(tiny_discriminator())
        trainer = SRGANTrainer(
            "cpu",
            2,
            batches(),
            g,
            torch.optim.Adam(g.parameters(), 1e-2),
            torch.nn.MSELoss(),
            d,
            torch.optim.Adam(d.parameters(), 1e-2),
            g_adv_loss,
            d_loss,
        )
        d0 = params(d)
        trainer.run()
        assert trainer.state.iteration == 6 and changed(d0, d)
    finally:
        dist.destroy_process_group()


@pytest.mark.filterwarnings("ignore:User provided device_type of 'cuda'")
def test_grad_scaler_path_with_cpu_scalers():
    """The AMP branch (two GradScalers, saved in the checkpoint) run with CPU scalers, as no GPU is at hand."""
    trainer = make_trainer()
    trainer.amp = True
    trainer.g_scaler, trainer.d_scaler = torch.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    g0, d0 = params(trainer.g_network), params(trainer.d_network)
    trainer.run()
    assert torch.isfinite(trainer.state.output["loss"])
    assert changed(g0, trainer.g_network) and changed(d0, trainer.d_network)
    saved = trainer.checkpoint_dict()
    assert saved["g_scaler"] is trainer.g_scaler and saved["d_scaler"].state_dict()["_growth_tracker"] == 3


def test_default_adversarial_losses_are_the_packages():
    from monai_mammo.losses import DiscriminatorAdversarialLoss, GeneratorAdversarialLoss

    g, d = TinyGenerator(), tiny_discriminator()
    trainer = SRGANTrainer(
        "cpu",
        1,
        batches(1),
        g,
        torch.optim.SGD(g.parameters(), 0.1),
        torch.nn.MSELoss(),
        d,
        torch.optim.SGD(d.parameters(), 0.1),
    )
    assert isinstance(trainer.g_adv_loss_function, GeneratorAdversarialLoss)
    assert isinstance(trainer.d_loss_function, DiscriminatorAdversarialLoss)
