"""Adversarial training of super-resolution (SRGAN) as a MONAI trainer: LR in, HR target.

MONAI's ``GanTrainer`` feeds the generator random latent codes, and its ``AdversarialTrainer`` has no
pretraining phase and no weighting of the adversarial term, so the SRGAN iteration is written here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

import torch
from monai.engines import Trainer
from monai.engines.utils import IterationEvents, default_metric_cmp_fn
from monai.engines.workflow import Workflow
from monai.inferers import Inferer, SimpleInferer
from monai.utils import AdversarialIterationEvents, AdversarialKeys, IgniteInfo, min_version, optional_import
from monai.utils.enums import CommonKeys as Keys
from torch.optim.optimizer import Optimizer
from torch.utils.data import DataLoader

from monai_mammo.losses import DiscriminatorAdversarialLoss, GeneratorAdversarialLoss

from .utils import SRKeys, SRPhase, SRPrepareBatch, autocast_context

if TYPE_CHECKING:
    from ignite.engine import EventEnum
    from ignite.metrics import Metric
else:
    Metric, _ = optional_import("ignite.metrics", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Metric")
    EventEnum, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "EventEnum")

__all__ = ["SRGANTrainer"]


@contextmanager
def _frozen(module: torch.nn.Module) -> Any:
    """No parameter gradients for ``module`` inside the block (gradients still flow through it to its input).

    A ``DistributedDataParallel`` module also runs under ``no_sync()``, so that its reducer does not expect
    gradients for the frozen parameters from this backward pass.
    """
    flags = [p.requires_grad for p in module.parameters()]
    no_sync = getattr(module, "no_sync", None)
    sync_off = no_sync() if callable(no_sync) else nullcontext()
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        with sync_off:
            yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)


class SRGANTrainer(Trainer):
    """SRGAN training (Ledig et al., "Photo-realistic single image super-resolution using a generative
    adversarial network", CVPR 2017), as used by SRGAN-STN-ResNet50 (Swapna & Vijaya Kumar, 2026).

    Each iteration runs the generator once on the LR batch, then

    - **pretrain** epochs (the first ``pretrain_epochs``): one generator step on ``pretrain_loss_function(sr, hr)``
      (pixel MSE by default); the discriminator is not run and not changed;
    - **GAN** epochs: a discriminator step on real HR against the detached SR, then a generator step on
      ``content_loss_function(sr, hr) + beta * g_adv_loss_function(D(sr))``, with the discriminator's parameters
      frozen for that step.

    Two optimisers; on CUDA with ``amp=True`` the forwards run under ``torch.autocast`` with one GradScaler per
    optimiser; on CPU ``amp`` is switched off. The phase follows ``engine.state.epoch``, so a run resumed from a
    checkpoint continues in the right phase. Save and resume with :meth:`checkpoint_dict` and
    :class:`~monai_mammo.handlers.AtomicCheckpointSaver` / ``monai.handlers.CheckpointLoader``.

    ``engine.state.output`` holds, detached: ``image`` (LR), ``label`` (HR), ``pred`` (SR), ``mask``, ``phase``,
    ``loss`` (the generator's total loss), ``reconstruction_loss`` (its content or pixel part), and in GAN epochs
    ``generator_loss`` (the unweighted adversarial term), ``discriminator_loss``, ``real_logits``,
    ``fake_logits``.

    Args:
        device: device of the run.
        max_epochs: total epochs, pretraining included.
        train_data_loader: batches of dicts with LR/HR/mask (see ``prepare_batch``) or ``(lr, hr[, mask])``.
        g_network: the generator, LR -> SR of the HR size.
        g_optimizer: optimiser of the generator.
        content_loss_function: ``(sr, hr) -> loss`` of the GAN phase (pixel MSE or a VGG feature loss).
        d_network: the discriminator, image -> logits; needed when there are GAN epochs.
        d_optimizer: optimiser of the discriminator.
        g_adv_loss_function: ``(fake_logits) -> loss``, the generator's adversarial loss; default
            :class:`~monai_mammo.losses.GeneratorAdversarialLoss` (-log D(G(lr))).
        d_loss_function: ``(real_logits, fake_logits) -> loss``; default
            :class:`~monai_mammo.losses.DiscriminatorAdversarialLoss` (-log D(hr) - log(1 - D(G(lr)))).
        beta: weight of the adversarial term (SRGAN: 1e-3).
        pretrain_epochs: number of first epochs that train the generator alone.
        pretrain_loss_function: ``(sr, hr) -> loss`` of those epochs; default ``torch.nn.MSELoss()``.
        epoch_length: iterations per epoch; default ``len(train_data_loader)``.
        non_blocking: non-blocking host-to-device copies.
        prepare_batch: returns ``(lr, hr, mask)``; default :class:`SRPrepareBatch` (keys ``lr``, ``hr``/``image``,
            ``mask``).
        iteration_update: replaces :meth:`_iteration` if given.
        g_inferer: runs the generator (default ``SimpleInferer``).
        d_inferer: runs the discriminator (default ``SimpleInferer``).
        postprocessing: transforms applied to the output at ``MODEL_COMPLETED``.
        key_train_metric: key metric, computed every iteration from the output.
        additional_metrics: more Ignite metrics.
        metric_cmp_fn: compares the key metric with the best so far.
        train_handlers: handlers to attach (``StatsHandler``, ``CheckpointSaver``, ...).
        amp: mixed precision on CUDA (ignored on CPU).
        event_names: extra events to register.
        event_to_attr: map of events to state attributes.
        decollate: decollate the output into per-item dicts (default False: SR images are large and the
            losses are scalars).
        optim_set_to_none: ``zero_grad(set_to_none=...)``.
        to_kwargs: extra ``Tensor.to`` arguments for ``prepare_batch``.
        amp_kwargs: extra ``torch.autocast`` arguments.

    Raises:
        ValueError: GAN epochs without ``d_network`` / ``d_optimizer``, negative ``beta`` or ``pretrain_epochs``.
    """

    def __init__(
        self,
        device: str | torch.device,
        max_epochs: int,
        train_data_loader: Iterable | DataLoader,
        g_network: torch.nn.Module,
        g_optimizer: Optimizer,
        content_loss_function: Callable | None = None,
        d_network: torch.nn.Module | None = None,
        d_optimizer: Optimizer | None = None,
        g_adv_loss_function: Callable | None = None,
        d_loss_function: Callable | None = None,
        beta: float = 1e-3,
        pretrain_epochs: int = 0,
        pretrain_loss_function: Callable | None = None,
        epoch_length: int | None = None,
        non_blocking: bool = False,
        prepare_batch: Callable = SRPrepareBatch(),
        iteration_update: Callable | None = None,
        g_inferer: Inferer | None = None,
        d_inferer: Inferer | None = None,
        postprocessing: Callable | None = None,
        key_train_metric: dict[str, Metric] | None = None,
        additional_metrics: dict[str, Metric] | None = None,
        metric_cmp_fn: Callable = default_metric_cmp_fn,
        train_handlers: Sequence | None = None,
        amp: bool = False,
        event_names: list[str | EventEnum | type[EventEnum]] | None = None,
        event_to_attr: dict | None = None,
        decollate: bool = False,
        optim_set_to_none: bool = False,
        to_kwargs: dict | None = None,
        amp_kwargs: dict | None = None,
    ) -> None:
        device = torch.device(device)
        use_amp = bool(amp) and device.type == "cuda"
        super().__init__(
            device=device,
            max_epochs=max_epochs,
            data_loader=train_data_loader,
            epoch_length=epoch_length,
            non_blocking=non_blocking,
            prepare_batch=prepare_batch,
            iteration_update=iteration_update,
            postprocessing=postprocessing,
            key_metric=key_train_metric,
            additional_metrics=additional_metrics,
            metric_cmp_fn=metric_cmp_fn,
            handlers=train_handlers,
            amp=use_amp,
            event_names=event_names,
            event_to_attr=event_to_attr,
            decollate=decollate,
            to_kwargs=to_kwargs,
            amp_kwargs=amp_kwargs,
        )
        if amp and not use_amp:
            self.logger.info(f"amp=True ignored: mixed precision is used on CUDA only, the device is {device}.")
        if pretrain_epochs < 0:
            raise ValueError(f"pretrain_epochs must be >= 0, got {pretrain_epochs}.")
        if beta < 0:
            raise ValueError(f"beta (weight of the adversarial loss) must be >= 0, got {beta}.")
        if pretrain_epochs < max_epochs:
            if d_network is None or d_optimizer is None:
                raise ValueError(
                    f"epochs {pretrain_epochs + 1}..{max_epochs} are GAN epochs and need d_network and d_optimizer; "
                    f"set pretrain_epochs=max_epochs={max_epochs} to train the generator alone."
                )
            if content_loss_function is None:
                raise ValueError("GAN epochs need content_loss_function(sr, hr), e.g. torch.nn.MSELoss().")
        self.register_events(*AdversarialIterationEvents)
        self.g_network = g_network
        self.g_optimizer = g_optimizer
        self.d_network = d_network
        self.d_optimizer = d_optimizer
        self.content_loss_function = content_loss_function
        self.g_adv_loss_function = GeneratorAdversarialLoss() if g_adv_loss_function is None else g_adv_loss_function
        self.d_loss_function = DiscriminatorAdversarialLoss() if d_loss_function is None else d_loss_function
        self.pretrain_loss_function = torch.nn.MSELoss() if pretrain_loss_function is None else pretrain_loss_function
        self.beta = float(beta)
        self.pretrain_epochs = int(pretrain_epochs)
        self.g_inferer = SimpleInferer() if g_inferer is None else g_inferer
        self.d_inferer = SimpleInferer() if d_inferer is None else d_inferer
        self.optim_set_to_none = optim_set_to_none
        self.g_scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        self.d_scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    def run(self) -> None:  # type: ignore[override]
        """Train from the current state (continues after a resumed checkpoint). The scalers were made in
        ``__init__``, one per optimiser, so ``Trainer.run``'s single scaler is not used."""
        Workflow.run(self)

    def phase(self, epoch: int | None = None) -> SRPhase:
        """The phase of ``epoch`` (default: the current epoch of ``self.state``)."""
        epoch = self.state.epoch if epoch is None else epoch
        return SRPhase.PRETRAIN if epoch <= self.pretrain_epochs else SRPhase.GAN

    def checkpoint_dict(self) -> dict[str, Any]:
        """Everything to save and restore for resuming: the engine, both networks, optimisers and AMP scalers.

        Pass it as ``save_dict`` of a checkpoint saver and as ``load_dict`` of ``CheckpointLoader``.
        """
        objects: dict[str, Any] = {"trainer": self, "generator": self.g_network, "g_optimizer": self.g_optimizer}
        if self.d_network is not None and self.d_optimizer is not None:
            objects.update(discriminator=self.d_network, d_optimizer=self.d_optimizer)
        if self.amp:
            objects.update(g_scaler=self.g_scaler, d_scaler=self.d_scaler)
        return objects

    def _step(self, loss: torch.Tensor, optimizer: Optimizer, scaler: torch.amp.GradScaler) -> None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # a disabled scaler calls optimizer.step() directly
        scaler.update()

    def _iteration(self, engine: SRGANTrainer, batchdata: Any) -> dict[str, Any]:
        """One SR iteration: one generator forward, then (GAN phase) a discriminator step and a generator step."""
        if batchdata is None:
            raise ValueError("Must provide batch data for current iteration.")
        lr, hr, mask = engine.prepare_batch(batchdata, engine.state.device, engine.non_blocking, **engine.to_kwargs)
        phase = engine.phase()
        out: dict[str, Any] = {Keys.IMAGE: lr, Keys.LABEL: hr, SRKeys.MASK: mask, SRKeys.PHASE: str(phase)}
        engine.state.output = out
        g_net, d_net = engine.g_network, engine.d_network
        g_net.train()
        with autocast_context(engine.amp, engine.amp_kwargs):
            sr = engine.g_inferer(lr, g_net)
        out[Keys.PRED] = sr.detach()
        engine.fire_event(AdversarialIterationEvents.GENERATOR_FORWARD_COMPLETED)
        engine.fire_event(IterationEvents.FORWARD_COMPLETED)

        if phase == SRPhase.GAN and d_net is not None and engine.d_optimizer is not None:
            d_net.train()
            engine.d_optimizer.zero_grad(set_to_none=engine.optim_set_to_none)
            with autocast_context(engine.amp, engine.amp_kwargs):
                real_logits = engine.d_inferer(hr, d_net)
                fake_logits = engine.d_inferer(sr.detach(), d_net)
                d_loss = engine.d_loss_function(real_logits, fake_logits).mean()
            out[AdversarialKeys.REAL_LOGITS] = real_logits.detach()
            out[AdversarialKeys.DISCRIMINATOR_LOSS] = d_loss.detach()
            engine.fire_event(AdversarialIterationEvents.DISCRIMINATOR_LOSS_COMPLETED)
            engine._step(d_loss, engine.d_optimizer, engine.d_scaler)
            engine.fire_event(AdversarialIterationEvents.DISCRIMINATOR_MODEL_COMPLETED)

            engine.g_optimizer.zero_grad(set_to_none=engine.optim_set_to_none)
            with _frozen(d_net), autocast_context(engine.amp, engine.amp_kwargs):
                fake_logits = engine.d_inferer(sr, d_net)
                content = engine.content_loss_function(sr, hr).mean()  # type: ignore[misc]
                adversarial = engine.g_adv_loss_function(fake_logits).mean()
                g_loss = content + engine.beta * adversarial
            out[AdversarialKeys.FAKE_LOGITS] = fake_logits.detach()
            out[AdversarialKeys.GENERATOR_LOSS] = adversarial.detach()
        else:
            engine.g_optimizer.zero_grad(set_to_none=engine.optim_set_to_none)
            with autocast_context(engine.amp, engine.amp_kwargs):
                content = engine.pretrain_loss_function(sr, hr).mean()
                g_loss = content
        out[AdversarialKeys.RECONSTRUCTION_LOSS] = content.detach()
        out[Keys.LOSS] = g_loss.detach()
        engine.fire_event(AdversarialIterationEvents.GENERATOR_LOSS_COMPLETED)
        engine.fire_event(IterationEvents.LOSS_COMPLETED)
        engine._step(g_loss, engine.g_optimizer, engine.g_scaler)
        engine.fire_event(AdversarialIterationEvents.GENERATOR_MODEL_COMPLETED)
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return engine.state.output
