"""The eval-real figures draw the numbers of its tables: recovery bars per set and class, ROC
curves whose areas are the table's AUCs."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from scope_assets.analysis.plots import save_png
from scope_assets.testing.real_classification import rrl_eb_scores, separation_table
from scope_assets.testing.real_recovery import recovery_summary
from scope_assets.testing.real_sky_figures import recovery_figure, roc_figure


def scored_stars(seed: int = 3) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Two sets of real-like labels (set ``b`` has only binaries) and xgb scores."""
    rng = np.random.default_rng(seed)
    labels = pd.DataFrame(
        {
            "_id": np.arange(1, 41),
            "source": ["a"] * 30 + ["b"] * 10,
            "label": ["RRL"] * 15 + ["EB"] * 15 + ["EA"] * 8 + ["CEP"] * 2,
        }
    )
    rrl = labels["label"].eq("RRL").to_numpy()
    scores = pd.DataFrame(
        {
            "_id": labels["_id"],
            "rrab_xgb": np.clip(0.6 * rrl + rng.normal(0.2, 0.2, 40), 0, 1),
            "rrc_xgb": rng.uniform(0, 0.3, 40),
            "ea_xgb": np.clip(0.6 * ~rrl + rng.normal(0.2, 0.2, 40), 0, 1),
            "wuma_xgb": rng.uniform(0, 0.3, 40),
        }
    )
    return {"xgb": scores}, labels


def test_roc_panels_are_the_separable_groups_and_their_areas_the_table_aucs(tmp_path):
    scores, labels = scored_stars()
    table = rrl_eb_scores(scores, labels)
    assert len(table) == 38  # the two Cepheids are neither class
    auc = separation_table(scores, labels).set_index("set")
    assert list(auc.index) == ["a", "all"]  # set b has no RR Lyrae
    part = table[table["source"] == "a"]
    assert auc.loc["a", "AUC RRL score"] == pytest.approx(
        roc_auc_score(part["is_rrl"], part[["rrl_score"]].to_numpy().ravel())
    )
    fig = roc_figure(table)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [
        "a, xgb (15 RRL / 15 EB)",
        "all, xgb (15 RRL / 23 EB)",
    ]
    for ax, (name, row) in zip(visible, auc.iterrows(), strict=True):
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == [
            f"RRL score (AUC {row['AUC RRL score']:.3f})",
            f"EB score (AUC {row['AUC EB score']:.3f})",
        ], name
    path = save_png(fig, tmp_path / "roc.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_recovery_bars_are_the_summary_percentages():
    table = pd.DataFrame(
        {
            "source": ["s1"] * 4 + ["s2"] * 2,
            "class": ["RRL", "RRL", "EB", "EB", "EA", "EA"],
            "ELS_ECE_EAOV": ["P", "miss", "P/2", "P", "2P", "alias"],
            "ELS": ["P", "P", "miss", "miss", "miss", "miss"],
        }
    )
    summary = recovery_summary(table, ("ELS_ECE_EAOV", "ELS"))
    fig = recovery_figure(summary)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["s1", "s2"]
    nested, ls = ([bar.get_height() for bar in container] for container in visible[0].containers)
    # s1's classes in the summary's order: EB, RRL, all
    assert nested == [100.0, 50.0, 75.0]
    assert ls == [0.0, 100.0, 50.0]
    ticks = [t.get_text() for t in visible[1].get_xticklabels()]
    assert ticks == ["EA (2)", "all (2)"]
