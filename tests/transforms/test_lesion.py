"""LesionMask(d) and CentreLabel(d): MIAS's circle annotations as a mask that moves with the image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, RandCropByPosNegLabeld

from monai_mammo.data import mias_items
from monai_mammo.transforms import (
    CentreLabel,
    CentreLabeld,
    CropBreastd,
    FlipToStandardLateralityd,
    LesionMask,
    LesionMaskd,
    LoadMammogramd,
)


def test_lesion_mask_draws_each_circle_with_the_image_geometry() -> None:
    img = MetaTensor(torch.zeros(1, 50, 60), meta={"filename_or_obj": "x.png"})
    mask = LesionMask()(img, [[10, 20], [40, 50]], [3, 1.5])
    assert isinstance(mask, MetaTensor) and mask.dtype == torch.uint8 and mask.shape == (1, 50, 60)
    assert mask.meta["filename_or_obj"] == "x.png"
    assert mask[0, 10, 20] == 1 and mask[0, 10, 23] == 1 and mask[0, 10, 24] == 0 and mask[0, 13, 20] == 1
    assert int(mask.sum()) == 29 + 9  # pixel centres within radius 3 and 1.5
    assert LesionMask(radius_scale=0.5)(img, [[10, 20]], [4]).sum() == 13
    assert LesionMask(min_radius=2)(img, [[10, 20]], [0.1]).sum() == 13
    empty = LesionMask()(np.zeros((1, 8, 8), dtype=np.float32), None, None)
    assert isinstance(empty, np.ndarray) and empty.sum() == 0


@pytest.mark.parametrize(
    "centers,radii,match",
    [
        ([[1, 1]], [], "1 centres but 0 radii"),
        ([[1, 1, 1]], [2], r"a centre is \[row, col\]"),
        ([[50, 1]], [2], r"centre \[50, 1\] lies outside the 50 x 60 image"),
        ([[1, 1]], [0], "a radius must be > 0"),
    ],
)
def test_lesion_mask_rejects_bad_annotations(centers: list, radii: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LesionMask()(torch.zeros(1, 50, 60), centers, radii)


def test_lesion_maskd_names_the_file_of_a_bad_annotation() -> None:
    item = {
        "image": MetaTensor(torch.zeros(1, 20, 20), meta={"filename_or_obj": "/d/mdb001.png"}),
        "centers": [[30, 1]],
    }
    with pytest.raises(ValueError, match=r"^/d/mdb001.png: LesionMask: 1 centres but 0 radii"):
        LesionMaskd("image")(item)
    with pytest.raises(ValueError, match="one image key"):
        LesionMaskd(["a", "b"])
    with pytest.raises(ValueError, match="radius_scale must be > 0"):
        LesionMask(radius_scale=0)


def test_lesion_maskd_takes_a_lesion_mask_image_where_the_item_has_one() -> None:
    """The synthetic datasets and BUSI give a lesion mask image (0/255): it wins over circles; an item without it
    falls back to its circles; a mask image of another size names the file."""
    image = MetaTensor(torch.zeros(1, 20, 30), meta={"filename_or_obj": "/d/a.png"})
    given = torch.zeros(1, 20, 30)
    given[0, 2:5, 3:7] = 255
    out = LesionMaskd("image", label_image_key="mask")(
        {"image": image, "mask": given, "centers": [[10, 10]], "radii": [2]}
    )
    assert out["lesion"].dtype == torch.uint8 and int(out["lesion"].sum()) == 12 and out["lesion"][0, 2, 3] == 1
    assert out["lesion"].meta["filename_or_obj"] == "/d/a.png"
    circles = LesionMaskd("image", label_image_key="mask")({"image": image, "centers": [[10, 10]], "radii": [2]})
    assert int(circles["lesion"].sum()) == 13
    with pytest.raises(
        ValueError, match=r"^/d/a.png: LesionMaskd: the lesion mask image is \(20, 29\), the image \(20, 30\)"
    ):
        LesionMaskd("image", label_image_key="mask")({"image": image, "mask": torch.zeros(1, 20, 29)})


def test_centre_label_reads_the_mask_at_the_patch_centre() -> None:
    mask = torch.zeros(1, 8, 8)
    assert CentreLabel()(mask) == 0
    mask[0, 4, 4] = 1
    assert CentreLabel()(mask) == 1
    assert CentreLabeld("lesion")({"lesion": mask, "label": 2})["label"] == 1


def test_real_mias_lesion_patches_are_centred_on_the_annotated_mass(mias_dir: Path) -> None:
    """mdb028 (a malignant circumscribed mass, x 338 y 314 r 56 with MIAS's bottom-left origin): after the
    laterality flip and the breast crop the mask still covers the bright mass, lesion patches are labelled 1 and
    the tissue patches 0."""
    item = next(i for i in mias_items(mias_dir) if i["refnum"] == "mdb028")
    assert item["centers"] == [[1023 - 314, 338]] and item["radii"] == [56]
    load = Compose(
        [
            LoadMammogramd("image"),
            LesionMaskd("image"),
            FlipToStandardLateralityd(["image", "lesion"]),
            CropBreastd(["image", "lesion"], mask_key="breast"),
        ]
    )
    data = load(item)
    image, lesion, breast = (np.asarray(data[k][0], dtype=np.float32) for k in ("image", "lesion", "breast"))
    assert int(lesion.sum()) == pytest.approx(np.pi * 56**2, rel=0.02)
    assert image[lesion > 0].mean() > image[(breast > 0) & (lesion == 0)].mean() + 20  # the mass is brighter
    crop = RandCropByPosNegLabeld(
        ["image", "lesion"], "lesion", (64, 64), pos=1, neg=1, num_samples=8, image_key="breast", image_threshold=0
    )
    crop.set_random_state(0)
    labels = [CentreLabeld("lesion")(patch)["label"] for patch in crop(data)]
    assert 0 < sum(labels) < len(labels)
