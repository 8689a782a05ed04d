"""Validation of super-resolution: PSNR and SSIM inside the breast mask, for the model and for bicubic."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from monai.engines import Evaluator
from monai.engines.utils import IterationEvents, default_metric_cmp_fn
from monai.inferers import Inferer, SimpleInferer
from monai.transforms import Transform
from monai.utils import ForwardMode, IgniteInfo, min_version, optional_import
from monai.utils.enums import CommonKeys as Keys
from torch.utils.data import DataLoader

from monai_mammo.metrics import bicubic_upsample, masked_psnr, masked_ssim

from .utils import SRKeys, SRPrepareBatch, autocast_context

if TYPE_CHECKING:
    from ignite.engine import EventEnum
    from ignite.metrics import Metric, MetricsLambda
    from ignite.metrics.metric import reinit__is_reduced, sync_all_reduce
else:
    Metric, _ = optional_import("ignite.metrics", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Metric", as_type="base")
    MetricsLambda, _ = optional_import("ignite.metrics", IgniteInfo.OPT_IMPORT_VERSION, min_version, "MetricsLambda")
    EventEnum, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "EventEnum")
    reinit__is_reduced, _ = optional_import(
        "ignite.metrics.metric", IgniteInfo.OPT_IMPORT_VERSION, min_version, "reinit__is_reduced", as_type="decorator"
    )
    sync_all_reduce, _ = optional_import(
        "ignite.metrics.metric", IgniteInfo.OPT_IMPORT_VERSION, min_version, "sync_all_reduce", as_type="decorator"
    )

__all__ = ["MeanPerImage", "SREvaluator", "default_sr_metrics"]


class MeanPerImage(Metric):
    """Mean over all images of a per-image value ``(B,)`` in ``engine.state.output[key]``, as a float.

    (ignite's ``Average`` treats a 1-D tensor as one example with B features.) Summed across ranks under DDP.

    Args:
        key: the output key holding per-image values.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(output_transform=self._take)

    def _take(self, output: dict) -> torch.Tensor:
        return output[self.key]

    @reinit__is_reduced
    def reset(self) -> None:
        self._sum = torch.zeros((), dtype=torch.float64, device=self._device)
        self._count = 0

    @reinit__is_reduced
    def update(self, output: torch.Tensor) -> None:
        values = torch.as_tensor(output).detach().reshape(-1).to(device=self._device, dtype=torch.float64)
        self._sum += values.sum()
        self._count += values.numel()

    @sync_all_reduce("_sum", "_count")
    def compute(self) -> float:
        if self._count == 0:
            raise ValueError(f"MeanPerImage({self.key!r}) has seen no images.")
        return float(self._sum) / float(self._count)


def _difference(a: float, b: float) -> float:
    return a - b


def default_sr_metrics() -> tuple[dict[str, Metric], dict[str, Metric]]:
    """``({"psnr": ...}, {"ssim", "psnr_bicubic", "ssim_bicubic", "psnr_gain_db", "ssim_gain"})``: means over
    images of the per-image values the :class:`SREvaluator` computes, and the gains over bicubic."""
    avg = {k: MeanPerImage(k) for k in (SRKeys.PSNR, SRKeys.SSIM)}
    base = {k: MeanPerImage(k) for k in (SRKeys.PSNR_BASELINE, SRKeys.SSIM_BASELINE)}
    additional: dict[str, Metric] = {
        str(SRKeys.SSIM): avg[SRKeys.SSIM],
        str(SRKeys.PSNR_BASELINE): base[SRKeys.PSNR_BASELINE],
        str(SRKeys.SSIM_BASELINE): base[SRKeys.SSIM_BASELINE],
        str(SRKeys.PSNR_GAIN): MetricsLambda(_difference, avg[SRKeys.PSNR], base[SRKeys.PSNR_BASELINE]),
        str(SRKeys.SSIM_GAIN): MetricsLambda(_difference, avg[SRKeys.SSIM], base[SRKeys.SSIM_BASELINE]),
    }
    return {str(SRKeys.PSNR): avg[SRKeys.PSNR]}, additional


class SREvaluator(Evaluator):
    """Evaluates an SR generator against the HR images, inside the mask, next to bicubic upsampling of the LR.

    Per batch it runs the network on the LR input, upsamples the LR input bicubically to the HR size, clips
    both to ``value_range``, and stores per image ``psnr``, ``ssim``, ``psnr_bicubic``, ``ssim_bicubic`` in
    ``engine.state.output`` (with ``image`` = LR, ``label`` = HR, ``pred`` = SR, ``baseline`` = bicubic,
    ``mask``). By default the metrics are the means over images: ``psnr`` (the key metric), ``ssim``,
    ``psnr_bicubic``, ``ssim_bicubic``, ``psnr_gain_db`` (SR minus bicubic, in dB) and ``ssim_gain``.
    Without a mask in the batch the whole image counts.

    Args:
        device: device of the run.
        val_data_loader: batches of dicts with LR/HR/mask or ``(lr, hr[, mask])``.
        network: the generator.
        value_range: ``(low, high)`` intensity range of the HR images; SR and bicubic outputs are clipped to it and
            ``data_range = high - low``.
        ssim_kwargs: extra arguments of :func:`~monai_mammo.metrics.masked_ssim` (window, sigma, ...).
        epoch_length: iterations per run; default ``len(val_data_loader)``.
        non_blocking: non-blocking host-to-device copies.
        prepare_batch: returns ``(lr, hr, mask)``; default :class:`SRPrepareBatch`.
        iteration_update: replaces :meth:`_iteration` if given.
        inferer: runs the network (e.g. ``SlidingWindowInferer`` for whole mammograms); default ``SimpleInferer``.
        postprocessing: transforms applied at ``MODEL_COMPLETED``.
        key_val_metric: key metric; default the mean masked PSNR (see :func:`default_sr_metrics`).
        additional_metrics: more metrics; default the other five of :func:`default_sr_metrics` when
            ``key_val_metric`` is not given.
        metric_cmp_fn: compares the key metric with the best so far.
        val_handlers: handlers to attach.
        amp: mixed precision on CUDA (ignored on CPU).
        mode: ``"eval"`` or ``"train"`` forward mode.
        event_names: extra events to register.
        event_to_attr: map of events to state attributes.
        decollate: decollate the output (default False).
        to_kwargs: extra ``Tensor.to`` arguments.
        amp_kwargs: extra ``torch.autocast`` arguments.
    """

    def __init__(
        self,
        device: str | torch.device,
        val_data_loader: Iterable | DataLoader,
        network: torch.nn.Module,
        value_range: tuple[float, float] = (0.0, 1.0),
        ssim_kwargs: dict | None = None,
        epoch_length: int | None = None,
        non_blocking: bool = False,
        prepare_batch: Callable = SRPrepareBatch(),
        iteration_update: Callable | None = None,
        inferer: Inferer | None = None,
        postprocessing: Transform | None = None,
        key_val_metric: dict[str, Metric] | None = None,
        additional_metrics: dict[str, Metric] | None = None,
        metric_cmp_fn: Callable = default_metric_cmp_fn,
        val_handlers: Sequence | None = None,
        amp: bool = False,
        mode: ForwardMode | str = ForwardMode.EVAL,
        event_names: list[str | EventEnum | type[EventEnum]] | None = None,
        event_to_attr: dict | None = None,
        decollate: bool = False,
        to_kwargs: dict | None = None,
        amp_kwargs: dict | None = None,
    ) -> None:
        low, high = (float(v) for v in value_range)
        if not high > low:
            raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}.")
        if key_val_metric is None:
            key_val_metric, defaults = default_sr_metrics()
            additional_metrics = defaults if additional_metrics is None else {**defaults, **additional_metrics}
        device = torch.device(device)
        super().__init__(
            device=device,
            val_data_loader=val_data_loader,
            epoch_length=epoch_length,
            non_blocking=non_blocking,
            prepare_batch=prepare_batch,
            iteration_update=iteration_update,
            postprocessing=postprocessing,
            key_val_metric=key_val_metric,
            additional_metrics=additional_metrics,
            metric_cmp_fn=metric_cmp_fn,
            val_handlers=val_handlers,
            amp=bool(amp) and device.type == "cuda",
            mode=mode,
            event_names=event_names,
            event_to_attr=event_to_attr,
            decollate=decollate,
            to_kwargs=to_kwargs,
            amp_kwargs=amp_kwargs,
        )
        self.network = network
        self.inferer = SimpleInferer() if inferer is None else inferer
        self.value_range = (low, high)
        self.ssim_kwargs = dict(ssim_kwargs or {})

    def _iteration(self, engine: SREvaluator, batchdata: Any) -> dict[str, Any]:
        """Run the network and bicubic on one batch; compute their masked PSNR and SSIM per image."""
        if batchdata is None:
            raise ValueError("Must provide batch data for current iteration.")
        lr, hr, mask = engine.prepare_batch(batchdata, engine.state.device, engine.non_blocking, **engine.to_kwargs)
        low, high = engine.value_range
        with engine.mode(engine.network), torch.no_grad():
            with autocast_context(engine.amp, engine.amp_kwargs):
                sr = engine.inferer(lr, engine.network)
            sr = sr.float().clamp(low, high)
            if sr.shape != hr.shape:
                raise ValueError(f"the network's output {tuple(sr.shape)} does not match the HR {tuple(hr.shape)}.")
            engine.fire_event(IterationEvents.FORWARD_COMPLETED)
            baseline = bicubic_upsample(lr.float(), size=hr.shape[2:], value_range=(low, high))
            data_range = high - low
            out: dict[str, Any] = {
                Keys.IMAGE: lr,
                Keys.LABEL: hr,
                Keys.PRED: sr,
                SRKeys.BASELINE: baseline,
                SRKeys.MASK: mask,
                SRKeys.PSNR: masked_psnr(sr, hr, mask, data_range=data_range),
                SRKeys.SSIM: masked_ssim(sr, hr, mask, data_range=data_range, **engine.ssim_kwargs),
                SRKeys.PSNR_BASELINE: masked_psnr(baseline, hr, mask, data_range=data_range),
                SRKeys.SSIM_BASELINE: masked_ssim(baseline, hr, mask, data_range=data_range, **engine.ssim_kwargs),
            }
        engine.state.output = out
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return out
