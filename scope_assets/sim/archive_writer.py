"""Write simulated fields into a local archive (format: ``scope_assets.lightcurves.archive``).

``write_new_archive`` creates an archive holding one field; ``add_to_archive`` puts another
field beside the ones present (or replaces one). Light curves live per field
(``lightcurves/field_<f>/``); each shared table (truth, cross-match catalogues, alerts) holds
one block of rows per field, in ascending field order, and the manifest's ``field_info``
records each field's seed, light-curve count, id block and row count per shared table, so one
field can be replaced without touching the others. A block depends only on its own field:
adding 297 then 298 gives the same archive as adding 298 then 297.

Survey ids must stay unique within a shared table (the Kowalski emulator keys its documents on
them): the field an archive is created with keeps the simulator's ids (id block 0), so a
one-field archive is exactly what the simulator draws; a field added later has them moved to
block ``field mod 2048`` of each catalogue's id range.

Every change is staged in a sibling directory (the light-curve files already there are
hard-linked, not copied) and swapped in whole: an interrupted run never leaves a half-written
archive.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scope_assets.lightcurves.archive import ARCHIVE_FORMAT, MANIFEST_NAME, LocalArchive
from scope_assets.lightcurves.raw import LIGHTCURVE_SCHEMA

SHARED_TABLES = (
    "truth.parquet",
    "xmatch/Gaia_EDR3.parquet",
    "xmatch/AllWISE.parquet",
    "xmatch/PS1_DR1.parquet",
    "alerts/ZTF_alerts.parquet",
)
ID_BLOCKS = {
    "xmatch/Gaia_EDR3.parquet": ("_id", 3 * 10**15),
    "xmatch/AllWISE.parquet": ("_id", 10**10),
    "xmatch/PS1_DR1.parquet": ("_id", 10**13),
    "alerts/ZTF_alerts.parquet": ("candid", 10**12),
}
"""Shared table → (id column, width of one field's id block)."""
N_ID_BLOCKS = 2048


@dataclass(frozen=True)
class FieldTables:
    """Everything the simulator drew for one field, ready to be written."""

    field: int
    seed: int
    curves: pd.DataFrame
    """One row per light curve: the archive's light-curve columns (points as list cells)."""
    shared: dict[str, pd.DataFrame]
    """Rows of this field for every shared table, keyed by the table's path in the archive."""

    @property
    def n_sources(self) -> int:
        return len(self.curves)


def check_new_archive(archive_dir: Path, overwrite: bool) -> None:
    """Refuse to replace an archive without ``overwrite``, or a directory that is no archive."""
    if (archive_dir / MANIFEST_NAME).exists() and not overwrite:
        raise FileExistsError(f"archive {archive_dir} exists; pass overwrite=True to replace it")
    if (
        archive_dir.exists()
        and not (archive_dir / MANIFEST_NAME).exists()
        and any(archive_dir.iterdir())
    ):
        raise FileExistsError(f"{archive_dir} exists and is not an archive; refusing to replace it")


def check_can_add(archive_dir: Path, field: int, overwrite_field: bool) -> None:
    """Refuse to add ``field`` to an archive that holds it already, unless ``overwrite_field``."""
    if field in archive_fields(archive_dir) and not overwrite_field:
        raise FileExistsError(
            f"field {field} is already in archive {archive_dir}; pass overwrite_field=True "
            f"(scope-sim --overwrite-field) to replace it"
        )


def archive_fields(archive_dir: Path) -> list[int]:
    """Fields listed in the archive's manifest (none if there is no archive)."""
    if not (archive_dir / MANIFEST_NAME).exists():
        return []
    return LocalArchive(archive_dir).fields()


def write_new_archive(archive_dir: Path, tables: FieldTables, overwrite: bool, created_by: str):
    """Write an archive holding only ``tables.field`` (replacing one there if ``overwrite``)."""
    check_new_archive(archive_dir, overwrite)
    info = _field_info(
        tables, id_block=0, shared_rows={k: len(v) for k, v in tables.shared.items()}
    )
    manifest = {
        "format": ARCHIVE_FORMAT,
        "fields": [tables.field],
        "created_by": created_by,
        "seed": tables.seed,
        "n_sources": tables.n_sources,
        "field_info": {str(tables.field): info},
    }
    with _staging(archive_dir) as staging:
        _write_lightcurves(staging / "lightcurves" / f"field_{tables.field}", tables.curves)
        for name, frame in tables.shared.items():
            _write_table(frame, staging / name)
        _write_manifest(staging, manifest)


def add_to_archive(archive_dir: Path, tables: FieldTables, overwrite_field: bool) -> None:
    """Add ``tables.field`` to an existing archive (replacing it if present and allowed)."""
    check_can_add(archive_dir, tables.field, overwrite_field)
    manifest = json.loads((archive_dir / MANIFEST_NAME).read_text())
    info = _known_field_info(archive_dir, manifest)
    field = tables.field
    id_block = info[field]["id_block"] if field in info else field % N_ID_BLOCKS
    blocks = {name: _split_blocks(archive_dir / name, info, name) for name in SHARED_TABLES}
    for name, frame in tables.shared.items():
        blocks[name][field] = _shift_ids(_arrow_table(frame), name, id_block)
    info[field] = _field_info(
        tables, id_block, {name: blocks[name][field].num_rows for name in SHARED_TABLES}
    )
    fields = sorted(info)
    manifest |= {
        "fields": fields,
        "n_sources": sum(info[f]["n_sources"] for f in fields),
        "field_info": {str(f): info[f] for f in fields},
    }
    with _staging(archive_dir) as staging:
        _link_light_curves(archive_dir, staging, keep=[f for f in fields if f != field])
        _write_lightcurves(staging / "lightcurves" / f"field_{field}", tables.curves)
        for name in SHARED_TABLES:
            merged = _concat_blocks([blocks[name][f] for f in fields], archive_dir / name)
            _check_unique_ids(merged, name, archive_dir)
            _write_arrow(merged, staging / name)
        _write_manifest(staging, manifest)


# --------------------------------------------------------------------------- field blocks


def _field_info(tables: FieldTables, id_block: int, shared_rows: dict[str, int]) -> dict:
    return {
        "seed": tables.seed,
        "n_sources": tables.n_sources,
        "id_block": id_block,
        "rows": shared_rows,
    }


def _known_field_info(archive_dir: Path, manifest: dict) -> dict[int, dict]:
    """Per-field info of an archive; a one-field archive written before ``field_info`` existed
    owns every row of its shared tables."""
    if "field_info" in manifest:
        return {int(f): info for f, info in manifest["field_info"].items()}
    if len(manifest["fields"]) != 1:
        raise ValueError(
            f"{archive_dir / MANIFEST_NAME} lists several fields but no field_info: cannot tell "
            f"which rows of the shared tables belong to which field"
        )
    rows = {name: pq.ParquetFile(archive_dir / name).metadata.num_rows for name in SHARED_TABLES}
    only = {"seed": manifest.get("seed"), "n_sources": manifest.get("n_sources")}
    return {manifest["fields"][0]: only | {"id_block": 0, "rows": rows}}


def _split_blocks(path: Path, info: dict[int, dict], name: str) -> dict[int, pa.Table]:
    """The rows of every field in a shared table (blocks in ascending field order)."""
    table = pq.read_table(path)
    blocks, start = {}, 0
    for field in sorted(info):
        n = info[field]["rows"][name]
        blocks[field] = table.slice(start, n)
        start += n
    if start != table.num_rows:
        raise ValueError(
            f"{path} has {table.num_rows} rows but the manifest's field_info accounts for {start}"
        )
    return blocks


def _shift_ids(table: pa.Table, name: str, id_block: int) -> pa.Table:
    if name not in ID_BLOCKS or id_block == 0:
        return table
    column, width = ID_BLOCKS[name]
    index = table.schema.get_field_index(column)
    shifted = pc.add(table.column(column), pa.scalar(id_block * width, pa.int64()))
    return table.set_column(index, column, shifted)


def _concat_blocks(blocks: list[pa.Table], path: Path) -> pa.Table:
    """Blocks as one table with the archive's existing schema."""
    schema = pq.read_schema(path)
    try:
        return pa.concat_tables([block.select(schema.names).cast(schema) for block in blocks])
    except (pa.ArrowInvalid, KeyError) as exc:
        raise ValueError(f"a new field's rows do not fit the schema of {path}: {exc}") from exc


def _check_unique_ids(table: pa.Table, name: str, archive_dir: Path) -> None:
    if name not in ID_BLOCKS:
        return
    column = ID_BLOCKS[name][0]
    ids = table.column(column).to_numpy()
    if len(np.unique(ids)) != len(ids):
        raise ValueError(
            f"{archive_dir / name}: {column} values would repeat across fields (a field too large "
            f"for its id block of {ID_BLOCKS[name][1]}); simulate fewer light curves per field"
        )


# --------------------------------------------------------------------------- writing


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A sibling directory that becomes ``target`` on success and vanishes either way."""
    path = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    try:
        yield path
        _replace_directory(path, target)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _link_light_curves(archive_dir: Path, staging: Path, keep: list[int]) -> None:
    for field in keep:
        name = Path("lightcurves") / f"field_{field}"
        shutil.copytree(archive_dir / name, staging / name, copy_function=os.link)


def _write_manifest(directory: Path, manifest: dict) -> None:
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")


def _write_lightcurves(field_dir: Path, curves: pd.DataFrame) -> None:
    """One Parquet file per readout channel, rows sorted by objectid."""
    field_dir.mkdir(parents=True)
    for rcid, group in curves.groupby("rcid", sort=True):
        group = group.sort_values("objectid")
        _write_arrow(_lightcurve_table(group), field_dir / f"rc_{int(rcid):02d}.parquet")


def _lightcurve_table(group: pd.DataFrame) -> pa.Table:
    columns = {}
    for field in LIGHTCURVE_SCHEMA:
        values = group[field.name]
        if pa.types.is_list(field.type):
            offsets = np.zeros(len(group) + 1, dtype=np.int32)
            np.cumsum([len(v) for v in values], out=offsets[1:])
            flat = np.concatenate(values.to_list()) if len(group) else np.zeros(0)
            flat = pa.array(flat.astype(field.type.value_type.to_pandas_dtype()))
            columns[field.name] = pa.ListArray.from_arrays(pa.array(offsets), flat)
        else:
            columns[field.name] = pa.array(values.to_numpy(), type=field.type)
    return pa.table(columns, schema=LIGHTCURVE_SCHEMA)


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as Arrow, strings as plain ``string`` (readable by older tools)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    _write_arrow(_arrow_table(frame), path)


def _write_arrow(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _replace_directory(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an old ``target`` only once ``new`` is complete."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
