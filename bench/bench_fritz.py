"""Upload speed to Fritz: ``scope-upload-classification`` vs SCoPe's request pattern.

Uploads 10,000 classifications (10,000 new sources, one class >= 0.7 each, a period annotation
each: the combined-catalogue layout, ``--classification read --taxonomy-map fritz_mapper.json
--p-threshold 0.7 --skip-phot``) to the Fritz emulator, which runs in its own process so client
and server each get a core. Prints sources/s for this project's upload (the library function
the CLI and the asset call, no client-side rate limit) and, measured in the same run on the
first ``--peer-sources`` rows, for a sequential client that makes SCoPe's requests:
per row a cone search, ``POST /api/sources``, ``GET`` + ``POST`` of the period annotation, and
``POST /api/classification`` every 10 rows (SCoPe 0.9.5 ``scope_upload_classification`` with
``--skip-phot``; its code is not run here, only its request sequence). Then re-uploads the same
file and prints how long the no-op rerun takes.

Target: >= 200 sources/s on 2 cores. Usage::

    .venv/bin/python bench/bench_fritz.py                    # 10,000 sources, 8 threads
    .venv/bin/python bench/bench_fritz.py --sources 2000 --parallel 4
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOKEN = "bench-fritz-token"
GROUP = 1544
SERVER = """
import sys
from scope_assets.emulator import start_emulator
emulator = start_emulator(catalogs={}, fritz_tokens=[sys.argv[1]])
print(emulator.fritz_url, flush=True)
sys.stdin.read()
emulator.stop()
"""


def start_server() -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, TOKEN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        raise RuntimeError("the emulator did not start")
    return process, url


def one_class_per_row(n: int, seed: int = 7):
    """Combined predictions where each row has exactly one class >= 0.7 (nonvar stays 0.5)."""
    from scope_assets.testing.fritz_predictions import synthetic_combined_predictions

    table = synthetic_combined_predictions(n, seed=seed)
    scores = [c for c in table.columns if c.endswith(("_dnn", "_xgb"))]
    table[scores] = 0.2
    table[["vnv_dnn", "vnv_xgb"]] = 0.5
    tags = sorted({c.rsplit("_", 1)[0] for c in scores} - {"vnv"})
    chosen = np.random.default_rng(seed).choice(tags, n)
    for tag in tags:
        rows = chosen == tag
        table.loc[rows, [f"{tag}_dnn", f"{tag}_xgb"]] = 0.9
    return table


def ours(url: str, path: Path, workdir: Path, parallel: int, batch_size: int):
    from scope_assets.config import load_config
    from scope_assets.fritz.classification_upload import prepare_upload, upload_classifications
    from scope_assets.fritz.fritz_client import FritzClient
    from scope_assets.fritz.upload_plan import UploadOptions
    from scope_assets.io import read_table

    options = UploadOptions(
        group_ids=(GROUP,),
        classification=("read",),
        taxonomy_map="fritz_mapper.json",
        p_threshold=0.7,
        skip_phot=True,
        result_dir=str(workdir / "fritzUpload"),
        parallel=parallel,
        batch_size=batch_size,
    )
    config = load_config()
    prepared = prepare_upload(read_table(path), path, options, config)
    with FritzClient(url, TOKEN, rate_limit_per_s=None) as client:
        start = time.perf_counter()
        summary = upload_classifications(client, prepared, options, config)
        return time.perf_counter() - start, summary


def scope_pattern(url: str, table, mapper) -> float:
    """SCoPe's sequential requests for ``table`` (see the module docstring); seconds."""
    from scope_assets.fritz.source_names import radec_to_iau_name
    from scope_assets.fritz.upload_plan import score_column

    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"token {TOKEN}"}
    scores = {e.column: score_column(table, e.column) for e in mapper}
    start = time.perf_counter()
    session.get(f"{url}/api/instrument", headers=headers).json()
    queued = []
    for i, row in enumerate(table.itertuples()):
        cone = {"ra": row.ra, "dec": row.dec, "radius": 2.0 / 3600}
        session.get(f"{url}/api/sources", params=cone, headers=headers).json()
        obj_id = radec_to_iau_name(row.ra, row.dec, prefix="ZTFJP")  # no clash with ours
        body = {"id": obj_id, "ra": row.ra, "dec": row.dec, "group_ids": [GROUP], "origin": "Fritz"}
        session.post(f"{url}/api/sources", json=body, headers=headers).json()
        annotations = f"{url}/api/sources/{obj_id}/annotations"
        session.get(annotations, headers=headers).json()
        period = {"origin": "uploadedperiod", "data": {"period": row.period}, "group_ids": [GROUP]}
        session.post(annotations, json=period, headers=headers).json()
        for e in mapper:
            if scores[e.column] is not None and scores[e.column].iloc[i] >= 0.7:
                queued.append(
                    {
                        "obj_id": obj_id,
                        "classification": e.fritz_label,
                        "taxonomy_id": e.taxonomy_id,
                        "probability": float(scores[e.column].iloc[i]),
                        "origin": "SCoPe-peer",
                        "group_ids": [GROUP],
                        "vote": False,
                        "label": False,
                        "ml": True,
                    }
                )
        if (i + 1) % 10 == 0 or i == len(table) - 1:
            session.post(
                f"{url}/api/classification", json={"classifications": queued}, headers=headers
            )
            queued = []
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--peer-sources", type=int, default=1000)
    args = parser.parse_args()

    from scope_assets.fritz.taxonomy_mappers import load_mapper
    from scope_assets.io import write_parquet

    table = one_class_per_row(args.sources)
    process, url = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            path = workdir / "field_296.parquet"
            write_parquet(table, path)
            seconds, summary = ours(url, path, workdir, args.parallel, args.batch_size)
            rate = summary.sources_created / seconds
            print(f"ours: {summary.describe()}")
            print(
                f"ours: {summary.sources_created} sources, {summary.classifications['posted']} "
                f"classifications in {seconds:.1f} s = {rate:.0f} sources/s "
                f"({args.parallel} threads, batches of {args.batch_size})"
            )
            again, summary = ours(url, path, workdir, args.parallel, args.batch_size)
            print(
                f"ours, rerun of the same file: {again:.2f} s, "
                f"{summary.classifications['posted']} posted, "
                f"{summary.classifications['unchanged']} unchanged"
            )
            peer_rows = table.iloc[: args.peer_sources].copy()
            peer_rows["ra"] = (peer_rows["ra"] + 180.0) % 360.0  # a sky region of its own
            peer = scope_pattern(url, peer_rows, load_mapper("fritz_mapper.json"))
            peer_rate = len(peer_rows) / peer
            print(
                f"SCoPe's request pattern (sequential): {len(peer_rows)} sources in {peer:.1f} s"
                f" = {peer_rate:.0f} sources/s"
            )
            print(f"ratio ours / SCoPe pattern: {rate / peer_rate:.1f}x")
    finally:
        process.stdin.close()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
