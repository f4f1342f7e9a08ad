"""Reports: agreement arithmetic, axes (DNN on x, XGB on y), PNG output, top features in
SCoPe's importance layout, label counts, stats collection."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from scope_assets.analysis.comparison import (
    EDGES,
    ComparisonCounts,
    all_fields_comparison,
    draw_heatmap,
    field_comparison,
    heatmap_counts,
    is_positive,
    paired_tags,
)
from scope_assets.analysis.importance import (
    importance_tag,
    read_importance_directory,
    top_features,
)
from scope_assets.analysis.training import (
    assemble_training_stats,
    draw_recall_precision,
    label_distribution,
    label_distribution_from_manifests,
    model_manifests,
    plot_label_distribution,
    recall_precision_points,
    training_stats_table,
)
from scope_assets.io import DataLayout, write_parquet
from scope_assets.ml.training.labels import labels_for_classes

MODELS = Path(__file__).resolve().parents[1] / "models"

PNG = b"\x89PNG\r\n\x1a\n"


def frame(dnn, xgb, tag="rrab"):
    return pd.DataFrame({"_id": np.arange(len(dnn)), f"{tag}_dnn": dnn, f"{tag}_xgb": xgb})


def bin_of(score: float) -> int:
    return int(np.searchsorted(EDGES, score, side="right") - 1)


def test_agreement_at_half_and_merging():
    df = frame([0.1, 0.6, 0.9, 0.4, 0.5], [0.2, 0.7, 0.3, 0.45, 0.49])
    counts = ComparisonCounts()
    counts.add(df)
    row = counts.summary().iloc[0]
    assert row["tag"] == "rrab" and row["n"] == 5
    assert row["agreement"] == pytest.approx(4 / 5)  # only 0.9/0.3 disagree: 0.5 is negative
    assert (row["dnn_positive"], row["xgb_positive"], row["both_positive"]) == (2, 1, 1)
    assert counts.hist_dnn["rrab"].sum() == 5 and counts.heat["rrab"].sum() == 5
    split = ComparisonCounts()
    split.add(df.iloc[:2])
    split.add(df.iloc[2:])
    pd.testing.assert_frame_equal(split.summary(), counts.summary())
    assert paired_tags(["a_dnn", "a_xgb", "b_dnn", "c_xgb"]) == ["a"]


def test_a_score_of_exactly_half_is_not_positive():
    assert is_positive(np.array([0.49, 0.5, 0.50000001, 0.51])).tolist() == [
        False,
        False,
        True,
        True,
    ]
    counts = ComparisonCounts()
    counts.add(frame([0.5, 0.5, 0.51, 0.5], [0.5, 0.51, 0.5, 0.49]))
    row = counts.summary().iloc[0]
    # pairs: (0.5, 0.5) agree, (0.5, 0.51) disagree, (0.51, 0.5) disagree, (0.5, 0.49) agree
    assert row["agreement"] == pytest.approx(2 / 4)
    assert (row["dnn_positive"], row["xgb_positive"], row["both_positive"]) == (1, 1, 0)


def test_heatmap_puts_dnn_on_x_and_xgb_on_y():
    dnn, xgb = np.array([0.13, 0.13, 0.95]), np.array([0.91, 0.91, 0.25])
    heat = heatmap_counts(dnn, xgb)
    assert heat.shape == (50, 50) and heat.sum() == 3
    assert heat[bin_of(0.13), bin_of(0.91)] == 2 and heat[bin_of(0.95), bin_of(0.25)] == 1
    assert heat[bin_of(0.91), bin_of(0.13)] == 0  # not transposed
    counts = ComparisonCounts()
    counts.add(frame(dnn, xgb))
    np.testing.assert_array_equal(counts.heat["rrab"], heat)
    fig, ax = plt.subplots()
    draw_heatmap(fig, ax, counts, "rrab")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("DNN score", "XGB score")
    image = np.ma.filled(ax.images[0].get_array(), np.nan)  # rows: y (XGB), columns: x (DNN)
    assert image[bin_of(0.91), bin_of(0.13)] == 2 and image[bin_of(0.25), bin_of(0.95)] == 1
    assert np.isnan(image[bin_of(0.13), bin_of(0.91)])
    plt.close(fig)


def test_recall_precision_scatter_puts_dnn_on_x_and_xgb_on_y():
    stats = training_stats_table(MODELS, "demo")
    points = recall_precision_points(stats, "recall", "test")
    manifests = model_manifests(MODELS, "demo")
    for tag in ("rrab", "vnv"):
        assert points.loc[tag, "dnn"] == manifests[("dnn", tag)][1].metrics["test"]["recall"]
        assert points.loc[tag, "xgb"] == manifests[("xgb", tag)][1].metrics["test"]["recall"]
        train_pos = manifests[("xgb", tag)][1].metrics["train"]["n_positive"]
        assert points.loc[tag, "n_positive_train"] == train_pos
    fig, ax = plt.subplots()
    draw_recall_precision(fig, ax, points, "recall", "test")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("DNN recall", "XGB recall")
    np.testing.assert_allclose(ax.collections[0].get_offsets(), points[["dnn", "xgb"]])
    plt.close(fig)
    only_xgb = stats[stats["algorithm"] == "xgb"]
    assert recall_precision_points(only_xgb, "recall", "test").empty


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
    assert saved["positive"] == "score > 0.5"
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


def test_top_features_defaults_to_the_top_three():
    importances = {
        "a": {"f1": 9, "f2": 8, "f3": 7, "f4": 6},
        "b": {"f4": 9, "f1": 8, "f5": 7, "f2": 1},
    }
    top = top_features(importances)
    counts = dict(zip(top["feature"], top["n_classifiers"], strict=True))
    assert counts == {"f1": 2, "f2": 1, "f3": 1, "f4": 1, "f5": 1}


def test_importance_is_read_from_scope_layout(tmp_path):
    directory = tmp_path / "xgb_feature_importance"
    directory.mkdir()
    files = {
        "vnv.20240101_000000_impvars.json": {"old": 1},
        "vnv.20240214_233705_impvars.json": {"new": 2},
        "vnv_impvars.json": {"untimed": 3},  # this project's earlier name: still read, oldest
        "rrab_impvars.json": {"only": 4},
        "ceph.20240214_233705_impvars.json": {"other_group": 5},
    }
    for name, scores in files.items():
        (directory / name).write_text(json.dumps(scores))
    assert importance_tag(directory / "vnv.20240214_233705_impvars.json") == (
        "vnv",
        "20240214_233705",
    )
    assert importance_tag("rrab_impvars.json") == ("rrab", "")
    assert read_importance_directory(directory) == {
        "ceph": {"other_group": 5},
        "rrab": {"only": 4},
        "vnv": {"new": 2},
    }
    assert read_importance_directory(directory, ["vnv", "rrab"]) == {
        "rrab": {"only": 4},
        "vnv": {"new": 2},
    }


def test_committed_demo_importances_assemble_into_scope_layout(tmp_path):
    out = assemble_training_stats(MODELS, "xgb", "demo", tmp_path, set_name="val")
    assert out.importance_dir == tmp_path / "xgb_feature_importance"
    names = sorted(p.name for p in out.importance_dir.iterdir())
    assert len(names) == 9 and all(n.count(".") == 2 and n.endswith("_impvars.json") for n in names)
    importances = read_importance_directory(out.importance_dir)
    source = next((MODELS / "xgb" / "demo" / "ceph").glob("*_plots/val/*_impvars.json"))
    assert importances["ceph"] == json.loads(source.read_text())
    top = top_features(importances)
    assert top["n_classifiers"].sum() == 3 * 9


def test_label_distribution_counts_positives(tmp_path):
    labels = labels_for_classes(["rrab", "rrab", "rrc", "nonvar"])
    counts = label_distribution(labels)
    assert counts["RR Lyrae ab"] == 2 and counts["RR Lyrae"] == 3 and counts["non-variable"] == 1
    labels.loc[0, "RR Lyrae ab"] = 0.7  # SCoPe: a label counts when it is > 0.7
    assert label_distribution(labels)["RR Lyrae ab"] == 1
    png = plot_label_distribution(counts, tmp_path / "labels.png")
    assert png.read_bytes()[:8] == PNG


def test_label_distribution_from_the_committed_manifests():
    counts = label_distribution_from_manifests(MODELS, "demo")
    manifests = model_manifests(MODELS, "demo")
    cepheid = manifests[("xgb", "ceph")][1].metrics
    expected = sum(cepheid[s]["n_positive"] for s in ("train", "val", "test"))
    assert counts["Cepheid"] == expected > 0
    assert len(counts) == 9 and counts.index.is_unique
    assert set(counts.index) == {m.label for _, m in manifests.values()}


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
