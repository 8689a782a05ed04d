"""Networks of monai_mammo: SRGAN, spatial transformer, ResNet-50 classifier, full pipeline."""

from __future__ import annotations

# --- SRGAN-STN-ResNet50 networks ---
from .pipeline import SRGANSTNClassifier as SRGANSTNClassifier
from .resnet import AvgDownConv as AvgDownConv
from .resnet import use_avg_down as use_avg_down
from .resnet import FreezeUntil as FreezeUntil
from .resnet import ResNet50Classifier as ResNet50Classifier
from .srgan import SRGANDiscriminator as SRGANDiscriminator
from .srgan import SRGANGenerator as SRGANGenerator
from .srgan import SRGANResidualBlock as SRGANResidualBlock
from .stn import BilinearSampler as BilinearSampler
from .stn import LanczosSampler as LanczosSampler
from .stn import SpatialTransformer as SpatialTransformer
from .stn import STNSampler as STNSampler

# --- cross-dimensional transfer ---
from .cross_dimensional import CrossDimensionalClassifier as CrossDimensionalClassifier
from .cross_dimensional import ModalityBatchNorm as ModalityBatchNorm
from .cross_dimensional import SmallCNNClassifier as SmallCNNClassifier
from .cross_dimensional import modality_indices as modality_indices

# --- super-resolution wrappers ---
from .bicubic_residual import BicubicResidualSR as BicubicResidualSR
