"""The top layer that knows bundles: cross-validation, test reports, the SR bundle's checks (MONAI's ``apps``).

The MONAI Label app lives in :mod:`monai_mammo.apps.label` and is not imported here (``monailabel`` is optional).
"""

from __future__ import annotations

from . import bundle_config as bundle_config
from .cross_validation import cross_validate as cross_validate
from .reports import report_test_metrics as report_test_metrics
from .superres import SR_LR_SCHEDULES as SR_LR_SCHEDULES
from .superres import SUPPORTED_SCALES as SUPPORTED_SCALES
from .superres import check_fits_image_size as check_fits_image_size
from .superres import check_sr_settings as check_sr_settings
from .superres import generator_norm as generator_norm
from .superres import shave_border as shave_border
from .superres import sr_inference_files as sr_inference_files
