"""``scope-emulator``: serve Kowalski and Fritz on 127.0.0.1 from a local archive until stopped."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from scope_assets.cli.error_exit import cli_main, report_error
from scope_assets.config import data_root
from scope_assets.emulator.runtime import (
    DEMO_FRITZ_TOKENS,
    DEMO_KOWALSKI_USERS,
    Emulator,
    start_emulator,
)
from scope_assets.io import DataLayout


def _user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError(f"expected NAME:PASSWORD, got {text!r}")
    return name, password


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scope-emulator",
        description="Serve emulated Kowalski and Fritz APIs on 127.0.0.1, seeded from a local archive.",
    )
    parser.add_argument(
        "--archive",
        type=Path,
        help="archive directory (default: $SCOPE_DATA_DIR/archive or ./data/archive)",
    )
    parser.add_argument(
        "--features", type=Path, help="features Parquet served as ZTF_source_features_DR16"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (the emulator has no real security)",
    )
    parser.add_argument(
        "--kowalski-port", type=int, default=0, help="Kowalski port (default: ephemeral)"
    )
    parser.add_argument("--fritz-port", type=int, default=0, help="Fritz port (default: ephemeral)")
    parser.add_argument(
        "--kowalski-user",
        type=_user,
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="repeatable",
    )
    parser.add_argument(
        "--fritz-token", action="append", default=[], metavar="TOKEN", help="repeatable"
    )
    return parser


def describe(emulator: Emulator, demo_kowalski: bool, demo_fritz: bool) -> str:
    """What is running and how to point the project's tools at it (secrets only if demo ones)."""
    user = next(iter(emulator.kowalski_users))
    lines = [
        f"Kowalski emulator: {emulator.kowalski_url}",
        f"Fritz emulator:    {emulator.fritz_url}",
        "",
        f"export KOWALSKI_URL={emulator.kowalski_url}",
        f"export KOWALSKI_USERNAME={user}",
    ]
    if demo_kowalski:
        lines.append(f"export KOWALSKI_PASSWORD={emulator.kowalski_users[user]}  # demo default")
    lines.append(f"export FRITZ_URL={emulator.fritz_url}")
    if demo_fritz:
        lines.append(f"export FRITZ_TOKEN={emulator.fritz_tokens[0]}  # demo default")
    lines += [
        "",
        "Fault injection: POST <url>/_emulator/faults; request log: GET <url>/_emulator/requests",
        "Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli_main
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        return report_error(
            f"--host {args.host} is not a loopback address; the emulator accepts demo "
            "credentials and serves its request log to anyone, so add --allow-remote to mean it"
        )
    archive = args.archive or DataLayout(data_root()).archive_dir
    if not archive.is_dir():
        return report_error(
            f"archive directory {archive} does not exist (create one with scope-sim)"
        )
    users = dict(args.kowalski_user) or DEMO_KOWALSKI_USERS
    tokens = args.fritz_token or list(DEMO_FRITZ_TOKENS)
    try:
        emulator = start_emulator(
            archive,
            features_path=args.features,
            kowalski_users=users,
            fritz_tokens=tokens,
            kowalski_port=args.kowalski_port,
            fritz_port=args.fritz_port,
            host=args.host,
        )
    except (OSError, ValueError) as exc:
        return report_error(str(exc))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(describe(emulator, not args.kowalski_user, not args.fritz_token), flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
