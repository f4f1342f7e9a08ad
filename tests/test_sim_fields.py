"""Several simulated fields in one archive: adding, refusing, replacing, ids, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scope_assets.cli.sim import main
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.sim import add_field, simulate_field
from scope_assets.sim.archive_writer import ID_BLOCKS, SHARED_TABLES


def _files(root: Path, under: str = "") -> dict[str, bytes]:
    base = root / under
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def three_fields(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sky") / "archive"
    add_field(root, 296, n_sources=40)
    add_field(root, 297, n_sources=12)
    add_field(root, 298, n_sources=10)
    return root


def test_every_listed_field_is_served(three_fields):
    archive = LocalArchive(three_fields)
    assert archive.fields() == [296, 297, 298]
    assert [len(archive.source_ids(f)) for f in (296, 297, 298)] == [40, 12, 10]
    for field in (297, 298):
        curves = list(archive.iter_light_curves(field))
        assert sum(len(c.batch.ids) for c in curves) == len(archive.source_ids(field))
    truth = archive.truth()
    assert truth.groupby("field").size().to_dict() == {296: 40, 297: 12, 298: 10}
    manifest = archive.manifest
    assert manifest["n_sources"] == 62 and manifest["seed"] == 42
    assert {f: i["n_sources"] for f, i in manifest["field_info"].items()} == {
        "296": 40,
        "297": 12,
        "298": 10,
    }


def test_first_field_is_as_in_a_one_field_archive(three_fields, tmp_path):
    alone = simulate_field(tmp_path / "alone", n_sources=40)
    assert _files(alone, "lightcurves") == _files(three_fields, "lightcurves/field_296")
    rows = LocalArchive(three_fields).manifest["field_info"]["296"]["rows"]
    for name in SHARED_TABLES:
        block = pq.read_table(three_fields / name).slice(0, rows[name])
        assert block.equals(pq.read_table(alone / name)), name


def test_survey_ids_stay_unique_across_fields(three_fields):
    for name, (column, _) in ID_BLOCKS.items():
        ids = pq.read_table(three_fields / name, columns=[column]).column(column).to_pandas()
        assert ids.is_unique, name


def test_order_of_adding_does_not_matter(three_fields, tmp_path):
    other = tmp_path / "archive"
    add_field(other, 296, n_sources=40)
    add_field(other, 298, n_sources=10)
    add_field(other, 297, n_sources=12)
    assert _files(other) == _files(three_fields)


def test_a_present_field_is_refused_unless_overwritten(tmp_path):
    root = add_field(tmp_path / "a", 296, n_sources=20)
    add_field(root, 297, n_sources=8)
    before = _files(root)
    with pytest.raises(FileExistsError, match="overwrite_field"):
        add_field(root, 297, n_sources=9)
    assert _files(root) == before
    add_field(root, 297, n_sources=9, overwrite_field=True)
    archive = LocalArchive(root)
    assert archive.fields() == [296, 297] and len(archive.source_ids(297)) == 9
    assert _files(root, "lightcurves/field_296") == {
        k: v for k, v in before.items() if k.startswith("lightcurves/field_296")
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # no staging left behind


def test_an_archive_without_field_info_can_grow(tmp_path):
    root = simulate_field(tmp_path / "a", n_sources=15)
    manifest = json.loads((root / "manifest.json").read_text())
    del manifest["field_info"]  # as scope-sim wrote it before fields could be added
    (root / "manifest.json").write_text(json.dumps(manifest))
    add_field(root, 300, n_sources=6)
    assert LocalArchive(root).truth().groupby("field").size().to_dict() == {296: 15, 300: 6}


def test_cli_adds_fields_and_refuses_present_ones(tmp_path, capsys):
    target = tmp_path / "archive"
    assert main(["--archive", str(target), "--fields", "296", "297", "--n-sources", "8"]) == 0
    assert main(["--archive", str(target), "--field", "298", "--n-sources", "6"]) == 0
    assert LocalArchive(target).fields() == [296, 297, 298]
    before = _files(target)
    assert main(["--archive", str(target), "--fields", "299", "297", "--n-sources", "6"]) == 2
    assert "[297]" in capsys.readouterr().err and _files(target) == before
    args = ["--archive", str(target), "--fields", "297", "--n-sources", "5", "--overwrite-field"]
    assert main(args) == 0
    archive = LocalArchive(target)
    assert [len(archive.source_ids(f)) for f in (296, 297, 298)] == [8, 5, 6]
    assert main(["--archive", str(target), "--n-sources", "4", "--overwrite"]) == 0
    assert LocalArchive(target).fields() == [296]
