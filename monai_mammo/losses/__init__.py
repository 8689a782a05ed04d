"""Losses: pixel, VGG19 content and adversarial losses."""

from __future__ import annotations

# --- SRGAN losses ---
from .adversarial import DiscriminatorAdversarialLoss as DiscriminatorAdversarialLoss
from .adversarial import GeneratorAdversarialLoss as GeneratorAdversarialLoss
from .adversarial import SRGANGeneratorLoss as SRGANGeneratorLoss
from .perceptual import VGG19_LAYERS as VGG19_LAYERS
from .perceptual import VGG19ContentLoss as VGG19ContentLoss
from .perceptual import VGGFallback as VGGFallback
from .perceptual import vgg19_features as vgg19_features
from .pixel import PixelCriterion as PixelCriterion
from .pixel import PixelLoss as PixelLoss

# --- SR bundle content loss ---
from .content import ContentLoss as ContentLoss
from .content import sr_content_loss as sr_content_loss

# --- cross-dimensional transfer ---
from .modality import ModalitySumLoss as ModalitySumLoss
