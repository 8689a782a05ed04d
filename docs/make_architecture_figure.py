"""Draw ``docs/source/_static/figures/architecture.png``: the packages of monai_mammo in their one-way order, with
an arrow for every package that imports another, read from the code itself (the same parse as
``tests/test_architecture.py``).

Usage::

    python docs/make_architecture_figure.py [--out docs/source/_static/figures/architecture.png]
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "monai_mammo"
# rows from the bottom, as in tests/test_architecture.py (a package imports only rows below its own)
ROWS = [
    ["utils"],
    ["data"],
    ["transforms"],
    ["networks"],
    ["losses", "metrics", "optimizers"],
    ["engines", "handlers"],
    ["apps"],
    ["cli"],
]
WHAT = {
    "utils": "enums, atomic writes",
    "data": "reader, DICOM, datasets, datalists, splits, samplers, synthetic",
    "transforms": "LoadMammogram, normalise, flip, crop, pectoral, US crop, LR/HR",
    "networks": "SRGAN, STN + Lanczos sampler, ResNet-50, cross-dimensional, registry",
    "losses": "pixel, VGG19, adversarial, modality sum",
    "metrics": "classification + CIs, masked PSNR/SSIM",
    "optimizers": "inverse-time decay",
    "engines": "SRGAN trainer, SR evaluator, cross-modal trainer/transfer",
    "handlers": "atomic checkpoints, resume, prediction / SR writers",
    "apps": "bundle checks, cross-validation, reports, MONAI Label app",
    "cli": "python -m monai_mammo: synth, prepare, info, preview, label",
}


def package_imports() -> set[tuple[str, str]]:
    """``(importer, imported)`` pairs of top-level packages of monai_mammo."""
    edges = set()
    for module in PACKAGE.rglob("*.py"):
        parts = module.relative_to(PACKAGE).parts
        if len(parts) == 1:
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                bits = name.split(".")
                if bits[0] == "monai_mammo" and len(bits) > 1 and bits[1] != parts[0] and bits[1] in WHAT:
                    edges.add((parts[0], bits[1]))
    return edges


def draw(out: Path) -> None:
    width, height = 3.3, 0.62
    pos = {}
    for row, names in enumerate(ROWS):
        shift = 0.0 if len(names) > 1 else (-1.6 if row % 2 else 1.6)  # stagger single boxes: arrows stay apart
        for i, name in enumerate(names):
            pos[name] = ((i - (len(names) - 1) / 2) * (width + 0.6) + shift, row * 1.3)
    fig, ax = plt.subplots(figsize=(13, 9))
    for src, dst in sorted(package_imports()):
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        ax.annotate(
            "",
            xy=(x1, y1 + height / 2),
            xytext=(x0, y0 - height / 2),
            arrowprops={"arrowstyle": "->", "color": "0.55", "lw": 0.9, "connectionstyle": "arc3,rad=0.08"},
        )
    for name, (x, y) in pos.items():
        ax.add_patch(
            plt.Rectangle(
                (x - width / 2, y - height / 2), width, height, facecolor="#e8f0fa", edgecolor="#2b5d9b", zorder=3
            )
        )
        ax.text(x, y + 0.1, f"monai_mammo.{name}", ha="center", va="center", fontsize=10, weight="bold", zorder=4)
        ax.text(x, y - 0.15, WHAT[name], ha="center", va="center", fontsize=6.5, zorder=4)
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - width, max(xs) + width)
    ax.set_ylim(-0.8, len(ROWS) * 1.3 - 0.5)
    ax.set_axis_off()
    ax.set_title("monai_mammo packages: an arrow is an import; every arrow points down (one-way order)", fontsize=11)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/source/_static/figures/architecture.png")
    draw(parser.parse_args().out)


if __name__ == "__main__":
    main()
