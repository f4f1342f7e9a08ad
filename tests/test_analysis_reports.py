"""Reports: agreement arithmetic, PNG output, top features, label counts, stats collection."""

import json

import numpy as np
import pandas as pd
import pytest

from scope_assets.analysis.comparison import (
    ComparisonCounts,
    all_fields_comparison,
    field_comparison,
    paired_tags,
)
from scope_assets.analysis.training import (
    assemble_training_stats,
    label_distribution,
    plot_label_distribution,
    top_features,
)
from scope_assets.io import DataLayout, write_parquet
from scope_assets.ml.training.labels import labels_for_classes

PNG = b"\x89PNG\r\n\x1a\n"


def frame(dnn, xgb, tag="rrab"):
    return pd.DataFrame({"_id": np.arange(len(dnn)), f"{tag}_dnn": dnn, f"{tag}_xgb": xgb})


def test_agreement_at_half_and_merging():
    df = frame([0.1, 0.6, 0.9, 0.4, 0.5], [0.2, 0.7, 0.3, 0.45, 0.49])
    counts = ComparisonCounts()
    counts.add(df)
    row = counts.summary().iloc[0]
    assert row["tag"] == "rrab" and row["n"] == 5
    assert row["agreement"] == pytest.approx(3 / 5)  # 0.9/0.3 and 0.5/0.49 disagree
    assert (row["dnn_positive"], row["xgb_positive"], row["both_positive"]) == (3, 1, 1)
    assert counts.hist_dnn["rrab"].sum() == 5 and counts.heat["rrab"].sum() == 5
    split = ComparisonCounts()
    split.add(df.iloc[:2])
    split.add(df.iloc[2:])
    pd.testing.assert_frame_equal(split.summary(), counts.summary())
    assert paired_tags(["a_dnn", "a_xgb", "b_dnn", "c_xgb"]) == ["a"]


def test_field_and_all_field_reports_write_pngs(tmp_path):
    layout = DataLayout(tmp_path)
    rng = np.random.default_rng(0)
    for field in (296, 297):
        d = np.round(rng.random(200), 2)
        x = np.round(np.clip(d + rng.normal(0, 0.1, 200), 0, 1), 2)
        df = frame(d, x).merge(frame(1 - d, 1 - x, "vnv"), on="_id")
        write_parquet(df, layout.combined_file(field))
    report = field_comparison(layout, 296)
    for path in (report.histogram_png, report.heatmap_png):
        assert path.read_bytes()[:8] == PNG and path.parent == layout.field_reports_dir(296)
    assert list(report.summary["tag"]) == ["rrab", "vnv"]
    saved = json.loads(report.summary_json.read_text())
    assert saved["threshold"] == 0.5 and len(saved["classes"]) == 2
    everything = all_fields_comparison(layout)
    assert everything.n_rows == 400 and len(everything.sources) == 2
    assert everything.histogram_png.read_bytes()[:8] == PNG
    with pytest.raises(FileNotFoundError, match="field_5"):
        field_comparison(layout, 5)


def test_top_features_counts_classifiers():
    importances = {
        "a": {"f1": 10, "f2": 5, "f3": 1},
        "b": {"f2": 8, "f4": 7, "f1": 1},
        "c": {"f2": 3, "f5": 2},
    }
    top = top_features(importances, n=2)
    counts = dict(zip(top["feature"], top["n_classifiers"], strict=True))
    assert counts == {"f2": 3, "f1": 1, "f4": 1, "f5": 1}
    assert top.iloc[0]["feature"] == "f2"


def test_label_distribution_counts_positives(tmp_path):
    labels = labels_for_classes(["rrab", "rrab", "rrc", "nonvar"])
    counts = label_distribution(labels)
    assert counts["RR Lyrae ab"] == 2 and counts["RR Lyrae"] == 3 and counts["non-variable"] == 1
    png = plot_label_distribution(counts, tmp_path / "labels.png")
    assert png.read_bytes()[:8] == PNG


def test_assemble_training_stats_copies_like_scope(tmp_path):
    models = tmp_path / "models"
    for tag in ("rrab", "vnv"):
        d = models / "xgb" / "demo" / tag / f"{tag}.20260101_000000_plots" / "val"
        d.mkdir(parents=True)
        (d / f"{tag}.20260101_000000_stats.json").write_text('{"roc_auc": 1.0}')
        (d / f"{tag}.20260101_000000_impvars.json").write_text('{"f1": 2}')
    out = assemble_training_stats(models, "xgb", "demo", tmp_path / "data")
    assert sorted(p.name for p in out.stats_files) == [
        "rrab.20260101_000000_stats.json",
        "vnv.20260101_000000_stats.json",
    ]
    assert out.stats_dir == tmp_path / "data" / "xgb_stats"
    assert out.importance_dir == tmp_path / "data" / "xgb_feature_importance"
    assert len(out.importance_files) == 2
    with pytest.raises(FileNotFoundError, match="dnn"):
        assemble_training_stats(models, "dnn", "demo", tmp_path / "data")
