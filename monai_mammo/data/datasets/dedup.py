"""Near-duplicate images by perceptual hashing (BUSI holds many).

Written here because neither MONAI nor scikit-image offers a perceptual hash, and the ``imagehash`` package
would be a dependency for twenty lines. The difference hash (dHash) of Krawetz ("Kind of like that", 2013):
shrink the grayscale image to ``(n, n + 1)``, keep one bit per horizontal neighbour pair (left < right).
Two images are near-duplicates when their hashes differ in at most ``max_distance`` of the ``n * n`` bits; on BUSI,
pairs up to 10 of 64 bits are the same lesion (re-saved, re-cropped or the next frame), so 10 is the default.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image
from tqdm import tqdm

__all__ = ["dhash", "duplicate_clusters"]

#: Default Hamming distance (bits of a 64-bit dHash) at or under which two images count as near-duplicates.
DEFAULT_MAX_DISTANCE = 10


def dhash(image: str | os.PathLike | Image.Image | np.ndarray, hash_size: int = 8) -> np.ndarray:
    """Difference hash of an image: a boolean vector of ``hash_size ** 2`` bits.

    Args:
        image: a file path, a PIL image, or a 2D (or HxWxC) array.
        hash_size: the hash is ``hash_size x hash_size`` bits.
    """
    if hash_size < 2:
        raise ValueError(f"hash_size must be >= 2, got {hash_size}.")
    if isinstance(image, np.ndarray):
        pil = Image.fromarray(np.asarray(image, dtype=np.uint8))
    elif isinstance(image, Image.Image):
        pil = image
    else:
        with Image.open(image) as opened:
            opened.load()
            pil = opened.copy()
    small = pil.convert("L").resize((hash_size + 1, hash_size), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.int16)
    return (pixels[:, 1:] > pixels[:, :-1]).ravel()


def duplicate_clusters(
    images: Sequence[str | os.PathLike | np.ndarray],
    max_distance: int = DEFAULT_MAX_DISTANCE,
    hash_size: int = 8,
    progress: bool = False,
) -> list[list[int]]:
    """Groups of near-duplicate images (single linkage on dHash distance), as sorted index lists.

    Only groups of two or more are returned, sorted by their first index.

    Args:
        images: paths or arrays.
        max_distance: largest Hamming distance between hashes of near-duplicates.
        hash_size: see :func:`dhash`.
        progress: show a progress bar.
    """
    if max_distance < 0:
        raise ValueError(f"max_distance must be >= 0, got {max_distance}.")
    if len(images) < 2:
        return []
    hashes = np.stack([dhash(im, hash_size) for im in tqdm(images, desc="hashing", disable=not progress)])
    distances = (hashes[:, None, :] != hashes[None, :, :]).sum(-1)
    parent = list(range(len(images)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(distances <= max_distance, k=1)), strict=True):
        a, b = find(int(i)), find(int(j))
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(images)):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])
