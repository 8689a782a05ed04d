"""Lesion-patch pretraining of the classifier bundle's ResNet-50 (``configs/pretrain_patches.yaml``).

The classifier first learns lesion against normal tissue on patches cut around MIAS's annotated lesion centres
(and from normal tissue) at the scale its whole-image input has, then starts whole-image training from that
backbone (``pretrained_weights``). Shen et al., "Deep Learning to Improve Breast Cancer Detection on Screening
Mammography", Sci. Rep. 9:12495, 2019, train whole-mammogram classifiers the same way: a patch classifier on
annotated regions first, its weights then initialise the whole-image network.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from monai_mammo.data.datalist import select_fold
from monai_mammo.utils import atomic_write

__all__ = ["check_patch_settings", "export_backbone", "lesion_patch_lists", "quiet_negative_only_crops"]

PATCH_ITEM_KEYS = ("image", "mask", "centers", "radii", "patient_id")


def check_patch_settings(
    patch_size: int, image_size: int, patches_per_image: int, radius_scale: float = 1.0, min_size: int = 32
) -> bool:
    """Check the patch stage's settings at start, with messages naming the setting (True, for a config expression).

    Raises:
        ValueError: ``patch_size`` below ``min_size`` (the ResNet-50's total stride) or above ``image_size``;
            ``patches_per_image`` below 1; ``radius_scale`` (``lesion_radius_scale``) not positive.
    """
    if not min_size <= int(patch_size) <= int(image_size):
        raise ValueError(
            f"patch_size must lie between {min_size} (the ResNet-50's total stride) and image_size={image_size}, got "
            f"{patch_size}; its default is image_size // 4, so give an image_size of at least {4 * min_size} or set "
            "patch_size."
        )
    if int(patches_per_image) < 1:
        raise ValueError(f"patches_per_image must be >= 1, got {patches_per_image}.")
    if not float(radius_scale) > 0:
        raise ValueError(f"lesion_radius_scale must be > 0 (it scales the annotated radii), got {radius_scale}.")
    return True


def lesion_patch_lists(datalist: str | os.PathLike, fold: int | None = 0) -> dict[str, list[dict[str, Any]]]:
    """The ``train`` and ``val`` items of ``datalist`` (fold ``fold`` validates) that patches can be cut from.

    Normal images (label 0) give normal-tissue patches; abnormal images with located lesions give lesion and
    normal-tissue patches: a lesion ``mask`` image (the synthetic datasets) or ``centers`` and ``radii``
    (as ``python -m monai_mammo prepare mias`` writes). Abnormal images without a location (MIAS's calcifications
    spread over the breast) are left out: any of their patches could hold the abnormality. Items keep ``image``,
    ``mask`` (where given), ``centers``, ``radii`` (empty when not given) and ``patient_id``.

    Raises:
        ValueError: no training or no validation image with a located lesion (the message names the datalist).
    """
    lists = select_fold(datalist, fold)
    out: dict[str, list[dict[str, Any]]] = {}
    for name in ("train", "val"):
        items, lesions = [], 0
        for item in lists[name]:
            centers = list(item.get("centers") or [])
            abnormal, located = int(item.get("label", 0)) != 0, bool(centers or item.get("mask"))
            if abnormal and not located:
                continue
            lesions += abnormal
            kept = {k: item[k] for k in PATCH_ITEM_KEYS if k in item}
            items.append({**kept, "centers": centers, "radii": list(item.get("radii") or [])})
        if not lesions:
            part = "training" if name == "train" else f"validation (fold {fold})"
            raise ValueError(
                f"datalist {os.fspath(datalist)!r}: no {part} image has a located lesion (a lesion 'mask' image, or "
                "'centers' and 'radii' as `python -m monai_mammo prepare mias` writes); lesion-patch pretraining "
                "needs them."
            )
        out[name] = items
    return out


def export_backbone(model_path: str | os.PathLike, network: torch.nn.Module, output_path: str | os.PathLike) -> str:
    """Write the ResNet-50 backbone of the classifier bundle's trained ``network`` (its weights read from
    ``model_path``) as a torchvision-format state dict, the file ``pretrained_weights`` takes; atomically.

    Returns:
        ``output_path`` as a string.

    Raises:
        FileNotFoundError: no ``model_path``.
        ValueError: a network without a ResNet-50 classifier (``network.classifier.backbone``).
    """
    if not Path(model_path).is_file():
        raise FileNotFoundError(f"export_backbone: no trained model at {os.fspath(model_path)!r}.")
    backbone = getattr(getattr(network, "classifier", None), "backbone", None)
    if backbone is None:
        raise ValueError(f"export_backbone: {type(network).__name__} has no classifier.backbone (a ResNet-50).")
    network.load_state_dict(torch.load(model_path, map_location="cpu", weights_only=True))
    state = {k: v.detach().cpu() for k, v in backbone.state_dict().items()}
    with atomic_write(output_path) as f:
        torch.save(state, f)
    return os.fspath(output_path)


def quiet_negative_only_crops() -> None:
    """Silence MONAI's warning that a crop found no positive centre: every normal image has none (it then samples
    only negatives, as wanted), and the warning would repeat for each of them on every epoch."""
    warnings.filterwarnings("ignore", message="Num foregrounds 0, ")
