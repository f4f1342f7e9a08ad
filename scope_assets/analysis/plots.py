"""Matplotlib (Agg backend) helpers: atomic PNG files and small inline previews for metadata."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from scope_assets.io import atomic_path  # noqa: E402

PREVIEW_MAX_BYTES = 200_000


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


def png_markdown(path: str | Path, title: str = "", max_bytes: int = PREVIEW_MAX_BYTES) -> str:
    """Markdown showing the PNG inline (base64) when small enough, else a link to the file."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) > max_bytes:
        return f"**{title}**: `{path}` ({len(data) // 1024} kB)\n"
    encoded = base64.b64encode(data).decode()
    return f"**{title}**\n\n![{title}](data:image/png;base64,{encoded})\n"


def figure_bytes(fig, dpi: int = 72) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
