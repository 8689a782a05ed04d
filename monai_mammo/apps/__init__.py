"""The top layer that knows bundles: cross-validation, test reports, the SR bundle's checks (MONAI's ``apps``).

The MONAI Label app lives in :mod:`monai_mammo.apps.label` and is not imported here (``monailabel`` is optional).
"""

from __future__ import annotations

from . import bundle_config as bundle_config
from .cross_validation import cross_validate as cross_validate
from .lesion_patches import check_patch_settings as check_patch_settings
from .lesion_patches import export_backbone as export_backbone
from .lesion_patches import lesion_patch_lists as lesion_patch_lists
from .lesion_patches import quiet_negative_only_crops as quiet_negative_only_crops
from .reports import report_test_metrics as report_test_metrics
from .superres import SR_LR_SCHEDULES as SR_LR_SCHEDULES
from .superres import SR_PATCH_REGIONS as SR_PATCH_REGIONS
from .superres import SUPPORTED_SCALES as SUPPORTED_SCALES
from .superres import check_fits_image_size as check_fits_image_size
from .superres import check_sr_settings as check_sr_settings
from .superres import generator_norm as generator_norm
from .superres import patch_centre_mask as patch_centre_mask
from .superres import shave_border as shave_border
from .superres import sr_inference_files as sr_inference_files
