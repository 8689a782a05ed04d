"""The SR bundle's content loss chosen by name."""

from __future__ import annotations

import pytest

from monai_mammo.losses import PixelLoss, VGG19ContentLoss, sr_content_loss


def test_content_loss_pixel() -> None:
    assert isinstance(sr_content_loss("pixel"), PixelLoss)


def test_content_loss_vgg19_needs_weights() -> None:
    with pytest.raises(ValueError, match="vgg19_weights"):
        sr_content_loss("vgg19")


def test_content_loss_vgg19_random_is_named_fallback() -> None:
    with pytest.warns(UserWarning, match="weak stand-in"):
        loss = sr_content_loss("vgg19_random", layer="relu1_2")
    assert isinstance(loss, VGG19ContentLoss) and loss.fallback == "random"


def test_content_loss_unknown_name() -> None:
    with pytest.raises(ValueError, match="pixl"):
        sr_content_loss("pixl")
