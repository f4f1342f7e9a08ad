"""SCoPe's prediction format: ``prediction_format_problems`` on good and broken files, and the
Dagster asset check that uses it failing on a broken file."""

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resources.storage import StorageResource
from scope_assets.defs.ml_assets import xgb_predictions_format
from scope_assets.defs.partitions import field_partitions
from scope_assets.io import DataLayout
from scope_assets.ml.inference.prediction_format import (
    prediction_format_problems,
    prediction_schema,
)

SCORES = ["vnv_xgb", "rrab_xgb"]


def _table(**columns) -> pa.Table:
    """A valid three-row prediction table; ``columns`` replace values (None drops a column)."""
    data = {
        "_id": [10_296_000_000_001, 10_296_000_000_002, 10_296_000_000_003],
        "Gaia_EDR3___id": [7, 0, 9],
        "AllWISE___id": [0, 5, 6],
        "PS1_DR1___id": [1, 2, 3],
        "ra": [270.1, 271.2, 272.3],
        "dec": [-5.0, -6.0, -7.0],
        "period": [0.5, 1.5, None],
        "field": [296, 296, 296],
        "ccd": [1, 2, 3],
        "quad": [1, 2, 3],
        "filter": [1, 2, 1],
        "vnv_xgb": [0.12, 0.9, 1.0],
        "rrab_xgb": [0.0, 0.33, None],
    }
    schema = prediction_schema(SCORES, with_obj_id=False, with_filter=True, attrs={})
    table = pa.table(data, schema=schema)
    for name, values in columns.items():
        index = table.schema.get_field_index(name)
        if values is None:
            table = table.remove_column(index)
        else:
            table = table.set_column(index, name, pa.array(values))
    return table


def _with_first(name: str) -> pa.Table:
    table = _table()
    return table.select([name, *(c for c in table.schema.names if c != name)])


def _write(tmp_path, table: pa.Table):
    path = tmp_path / "field_296.parquet"
    pq.write_table(table, path)
    return path


def test_a_good_file_has_no_problems(tmp_path):
    assert prediction_format_problems(_write(tmp_path, _table())) == []
    assert prediction_format_problems(_write(tmp_path, _table()), "xgb") == []


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (_with_first("ra"), "column order"),
        (_table(ra=None), "missing columns ['ra']"),
        (_table(ra=pa.array([1.0, 2.0, 3.0], pa.float32())), "column 'ra' has type float"),
        (_table(_id=["a", "b", "c"]), "column '_id' has type string"),
        (_table(vnv_xgb=[0.12, 1.2, 0.5]), "scores of 'vnv_xgb' outside [0, 1]"),
        (_table(rrab_xgb=[-0.01, 0.5, 0.5]), "scores of 'rrab_xgb' outside [0, 1]"),
        (_table(rrab_xgb=[0.123, 0.5, 0.5]), "scores of 'rrab_xgb' not rounded to 2 decimals"),
        (_table(_id=[1, 1, 2]), "duplicated _id"),
        (_table(AllWISE___id=pa.array([1, None, 3], pa.int64())), "null survey ids in ['AllWISE"),
        (_table().append_column("notes", pa.array(["x", "y", "z"])), "['notes'] are not"),
    ],
)
def test_each_broken_rule_is_named(tmp_path, table, problem):
    problems = prediction_format_problems(_write(tmp_path, table))
    assert any(problem in p for p in problems), problems


def test_score_columns_of_another_algorithm_are_a_problem(tmp_path):
    table = _table().rename_columns([*_table().schema.names[:-1], "rrab_dnn"])
    path = _write(tmp_path, table)
    assert prediction_format_problems(path) == []
    assert prediction_format_problems(path, "xgb") == [
        "columns ['rrab_dnn'] are not xgb score columns"
    ]


def test_the_asset_check_fails_on_a_broken_file(tmp_path):
    layout = DataLayout(tmp_path / "data")

    @dg.asset(name="xgb_predictions", partitions_def=field_partitions)
    def broken_xgb_predictions(context: dg.AssetExecutionContext) -> None:
        path = layout.preds_file("xgb", int(context.partition_key))
        path.parent.mkdir(parents=True)
        pq.write_table(_table(vnv_xgb=[0.12, 1.5, 0.5], ra=None), path)

    storage = StorageResource(data_dir=str(layout.root), models_dir=str(tmp_path / "models"))
    result = dg.materialize(
        [broken_xgb_predictions, xgb_predictions_format],
        partition_key="296",
        resources={"storage": storage},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    problems = evaluation.metadata["problems"].value
    assert "missing columns ['ra']" in problems
    assert "scores of 'vnv_xgb' outside [0, 1]" in problems
