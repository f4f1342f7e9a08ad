"""DNN-vs-XGB comparison: score histograms, 2-D agreement heatmaps, agreement at 0.5.

As in SCoPe's "Analyzing predictions": the heatmap puts the DNN score on x and the XGB score on
y, and a score is a positive classification when it is strictly above 0.5 (:func:`is_positive`;
scores are rounded to 2 dp, so 0.50 occurs and counts as negative).

Counts are accumulated file by file (:class:`ComparisonCounts`), so comparing every field
reads one catalogue at a time and only its score columns: memory does not grow with the number
of fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from scope_assets.analysis.plots import grid, save_png
from scope_assets.io import DataLayout, write_json

N_BINS = 50
EDGES = np.linspace(0.0, 1.0, N_BINS + 1)
THRESHOLD = 0.5


def is_positive(scores: np.ndarray) -> np.ndarray:
    """SCoPe's positive-classification rule for the comparison: score ``> 0.5`` (0.50 is not)."""
    return np.asarray(scores) > THRESHOLD


def heatmap_counts(dnn: np.ndarray, xgb: np.ndarray) -> np.ndarray:
    """2-D histogram of paired scores: ``counts[i, j]`` = sources with the DNN score in bin ``i``
    (x axis) and the XGB score in bin ``j`` (y axis)."""
    return np.histogram2d(dnn, xgb, [EDGES, EDGES])[0].astype(np.int64)


def paired_tags(columns: list[str]) -> list[str]:
    """Tags with both a ``<tag>_dnn`` and a ``<tag>_xgb`` column, in DNN column order."""
    names = set(columns)
    return [c[:-4] for c in columns if c.endswith("_dnn") and f"{c[:-4]}_xgb" in names]


@dataclass
class ComparisonCounts:
    """Histograms and agreement counts per tag, mergeable across files."""

    tags: list[str] = field(default_factory=list)
    n: dict[str, int] = field(default_factory=dict)
    agree: dict[str, int] = field(default_factory=dict)
    dnn_positive: dict[str, int] = field(default_factory=dict)
    xgb_positive: dict[str, int] = field(default_factory=dict)
    both_positive: dict[str, int] = field(default_factory=dict)
    hist_dnn: dict[str, np.ndarray] = field(default_factory=dict)
    hist_xgb: dict[str, np.ndarray] = field(default_factory=dict)
    heat: dict[str, np.ndarray] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def add(self, df: pd.DataFrame, source: str = "") -> None:
        for tag in paired_tags(list(df.columns)):
            d = df[f"{tag}_dnn"].to_numpy(dtype=float)
            x = df[f"{tag}_xgb"].to_numpy(dtype=float)
            ok = np.isfinite(d) & np.isfinite(x)
            d, x = np.clip(d[ok], 0, 1), np.clip(x[ok], 0, 1)
            if tag not in self.n:
                self.tags.append(tag)
                self.n[tag] = self.agree[tag] = 0
                self.dnn_positive[tag] = self.xgb_positive[tag] = self.both_positive[tag] = 0
                self.hist_dnn[tag] = np.zeros(N_BINS, dtype=np.int64)
                self.hist_xgb[tag] = np.zeros(N_BINS, dtype=np.int64)
                self.heat[tag] = np.zeros((N_BINS, N_BINS), dtype=np.int64)
            dp, xp = is_positive(d), is_positive(x)
            self.n[tag] += len(d)
            self.agree[tag] += int((dp == xp).sum())
            self.dnn_positive[tag] += int(dp.sum())
            self.xgb_positive[tag] += int(xp.sum())
            self.both_positive[tag] += int((dp & xp).sum())
            self.hist_dnn[tag] += np.histogram(d, EDGES)[0]
            self.hist_xgb[tag] += np.histogram(x, EDGES)[0]
            self.heat[tag] += heatmap_counts(d, x)
        if source:
            self.sources.append(source)

    def summary(self) -> pd.DataFrame:
        rows = []
        for tag in self.tags:
            n = self.n[tag]
            rows.append(
                {
                    "tag": tag,
                    "n": n,
                    "agreement": self.agree[tag] / n if n else float("nan"),
                    "dnn_positive": self.dnn_positive[tag],
                    "xgb_positive": self.xgb_positive[tag],
                    "both_positive": self.both_positive[tag],
                }
            )
        return pd.DataFrame(
            rows, columns=["tag", "n", "agreement", "dnn_positive", "xgb_positive", "both_positive"]
        )


def plot_histograms(counts: ComparisonCounts, path: Path, title: str) -> Path:
    fig, axes = grid(len(counts.tags))
    centres = 0.5 * (EDGES[1:] + EDGES[:-1])
    width = EDGES[1] - EDGES[0]
    for ax, tag in zip(axes, counts.tags, strict=False):
        ax.bar(centres, counts.hist_dnn[tag], width=width, alpha=0.55, label="DNN", color="C0")
        ax.bar(centres, counts.hist_xgb[tag], width=width, alpha=0.55, label="XGB", color="C1")
        ax.set_yscale("log")
        ax.set_title(f"{tag} (n={counts.n[tag]})", fontsize=9)
        ax.set_xlabel("score", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    if not counts.tags:
        axes[0].text(0.5, 0.5, "no paired DNN/XGB columns", ha="center")
    fig.suptitle(title, fontsize=11)
    return save_png(fig, path)


def draw_heatmap(fig, ax, counts: ComparisonCounts, tag: str) -> None:
    """One class's DNN (x) vs XGB (y) heatmap, log colour scale, threshold lines at 0.5."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter

    heat = counts.heat[tag].T.astype(float)  # imshow rows are y (XGB bins), columns x (DNN)
    heat[heat == 0] = np.nan
    vmax = np.nanmax(heat) if np.isfinite(heat).any() else 1.0
    norm = LogNorm(vmin=1, vmax=max(vmax, 1.0))
    image = ax.imshow(
        heat, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", norm=norm, aspect="equal"
    )
    ax.axhline(THRESHOLD, color="0.5", lw=0.6, ls="--")
    ax.axvline(THRESHOLD, color="0.5", lw=0.6, ls="--")
    agreement = counts.agree[tag] / counts.n[tag] if counts.n[tag] else float("nan")
    ax.set_title(f"{tag}: agree {agreement:.3f}", fontsize=9)
    ax.set_xlabel("DNN score", fontsize=8)
    ax.set_ylabel("XGB score", fontsize=8)
    ax.tick_params(labelsize=7)
    cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    plain = FuncFormatter(lambda value, _: f"{value:g}")  # "3", not "3×10⁰"
    cbar.ax.yaxis.set_major_formatter(plain)
    cbar.ax.yaxis.set_minor_formatter(plain)
    cbar.ax.tick_params(which="both", labelsize=6)
    cbar.set_label("sources per cell", fontsize=7)


def plot_heatmaps(counts: ComparisonCounts, path: Path, title: str) -> Path:
    fig, axes = grid(len(counts.tags))
    for ax, tag in zip(axes, counts.tags, strict=False):
        draw_heatmap(fig, ax, counts, tag)
    if not counts.tags:
        axes[0].text(0.5, 0.5, "no paired DNN/XGB columns", ha="center")
    fig.suptitle(title, fontsize=11)
    return save_png(fig, path)


@dataclass
class ComparisonReport:
    summary: pd.DataFrame
    histogram_png: Path
    heatmap_png: Path
    summary_json: Path
    n_rows: int
    sources: list[str]


def _write_report(counts: ComparisonCounts, out_dir: Path, title: str) -> ComparisonReport:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = counts.summary()
    hist = plot_histograms(counts, out_dir / "dnn_xgb_histograms.png", f"{title}: score histograms")
    heat = plot_heatmaps(counts, out_dir / "dnn_xgb_heatmaps.png", f"{title}: DNN vs XGB")
    summary_json = write_json(
        {
            "threshold": THRESHOLD,
            "positive": f"score > {THRESHOLD}",
            "sources": counts.sources,
            "classes": summary.to_dict(orient="records"),
        },
        out_dir / "dnn_xgb_agreement.json",
    )
    n_rows = max(counts.n.values()) if counts.n else 0
    return ComparisonReport(summary, hist, heat, summary_json, n_rows, list(counts.sources))


def _score_columns(path: Path) -> list[str]:
    names = pq.ParquetFile(path).schema_arrow.names
    tags = paired_tags(names)
    return [f"{t}_{a}" for t in tags for a in ("dnn", "xgb")]


def compare_files(paths: list[Path]) -> ComparisonCounts:
    counts = ComparisonCounts()
    for path in paths:
        columns = _score_columns(path)
        source = pq.ParquetFile(path)
        for batch in source.iter_batches(batch_size=200_000, columns=columns):
            counts.add(batch.to_pandas())
        counts.sources.append(str(path))
    return counts


def field_comparison(
    layout: DataLayout, field: int | str, combined_dirname: str = "preds_dnn_xgb"
) -> ComparisonReport:
    """Comparison report of one field's combined catalogue → ``reports/field_<f>/``."""
    path = layout.combined_file(field, combined_dirname)
    if not path.exists():
        raise FileNotFoundError(f"no combined catalogue for field {field}: {path} does not exist")
    counts = compare_files([path])
    return _write_report(counts, layout.field_reports_dir(field), f"field {field}")


def all_fields_comparison(
    layout: DataLayout, combined_dirname: str = "preds_dnn_xgb"
) -> ComparisonReport:
    """Comparison over every combined catalogue present → ``reports/all_fields/``."""
    paths = sorted(layout.combined_dir(combined_dirname).glob("field_*.parquet"))
    if not paths:
        raise FileNotFoundError(
            f"no combined catalogues in {layout.combined_dir(combined_dirname)}"
        )
    counts = compare_files(paths)
    return _write_report(counts, layout.reports_dir / "all_fields", f"{len(paths)} fields")
