"""Make the gallery of docs/source/synthetic.md: synthetic images of each class and modality (small PNGs).

Usage: ``python docs/make_synthetic_gallery.py`` (writes ``docs/source/_static/synthetic/*.png``).
Every image is synthetic; no real data is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation

from monai_mammo.data.synthetic import SyntheticMammograms, SyntheticUltrasounds
from monai_mammo.utils import BreastClass

OUT = Path(__file__).resolve().parent / "source" / "_static" / "synthetic"
TILE = 200
PER_ROW = 3


def _outline(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RGB image with the lesion mask's outline in yellow (a second copy of the image, beside the plain one)."""
    rgb = np.repeat(image[..., None], 3, axis=2)
    edge = binary_dilation(mask > 0, iterations=2) & ~(mask > 0)
    rgb[edge] = (1.0, 0.85, 0.0)
    return rgb


def _tile(array: np.ndarray) -> Image.Image:
    mode = "RGB" if array.ndim == 3 else "L"
    return Image.fromarray(np.round(array * 255).astype(np.uint8), mode).resize((TILE, TILE), Image.Resampling.LANCZOS)


def make_row(gen, label: int, path: Path) -> None:
    """``PER_ROW`` images of class ``label`` and, last, the outline of the first one's lesion mask."""
    items = [gen[i] for i in range(200) if gen[i].label == label][: PER_ROW - 1]
    tiles = [_tile(it.image) for it in items]
    tiles.append(_tile(_outline(items[0].image, items[0].mask)))
    canvas = Image.new("RGB", (TILE * len(tiles) + 4 * (len(tiles) - 1), TILE), (255, 255, 255))
    for k, tile in enumerate(tiles):
        canvas.paste(tile, (k * (TILE + 4), 0))
    canvas.save(path, optimize=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    generators = {"mg": SyntheticMammograms(256, seed=0), "us": SyntheticUltrasounds(192, seed=0)}
    for name, gen in generators.items():
        for label, cls in enumerate(BreastClass):
            path = OUT / f"{name}_{cls.value}.png"
            make_row(gen, label, path)
            size = path.stat().st_size
            assert size < 150_000, f"{path} is {size} bytes; keep gallery images under 150 kB"
            print(path, size)


if __name__ == "__main__":
    main()
