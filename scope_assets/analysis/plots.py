"""Matplotlib (Agg backend) helpers: atomic PNG files and small thumbnails for metadata."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from scope_assets.io import atomic_path  # noqa: E402


def grid(n_panels: int, ncols: int = 3, panel: tuple[float, float] = (3.6, 3.0)):
    """A figure with ``n_panels`` axes in rows of ``ncols`` (unused axes hidden)."""
    n_panels = max(n_panels, 1)
    ncols = min(ncols, n_panels)
    nrows = -(-n_panels // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel[0] * ncols, panel[1] * nrows),
        squeeze=False,
        layout="constrained",
    )
    flat = axes.ravel()
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def save_png(fig, path: str | Path, dpi: int = 90) -> Path:
    """Write ``fig`` as PNG atomically and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def thumbnail_png(path: str | Path, width: int, max_bytes: int) -> bytes:
    """A downscaled, palette PNG of the image at ``path``: at most ``width`` pixels wide and,
    shrinking further if needed, at most ``max_bytes`` long (for inline previews)."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
    while True:
        scale = min(1.0, width / image.width)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image.resize(size, Image.Resampling.LANCZOS).quantize(colors=64)
        buffer = io.BytesIO()
        small.save(buffer, format="PNG", optimize=True)
        data = buffer.getvalue()
        if len(data) <= max_bytes or width <= 64:
            return data
        width = int(width * 0.8)


def figure_bytes(fig, dpi: int = 72) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
