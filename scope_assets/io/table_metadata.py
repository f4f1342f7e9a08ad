"""The JSON metadata of a table (``scope`` attrs, pandas' own key): parsed, checked and capped.

Metadata is copied from inputs into outputs, so a file with a huge, deep or malformed blob
would otherwise crash a reader or grow every file derived from it. One function checks it on
read (:func:`parse_table_metadata`) and one on write (:func:`metadata_json`).
"""

from __future__ import annotations

import json
from pathlib import Path

from scope_assets.errors import ScopeError


class TableFormatError(ScopeError, ValueError):
    """A table file is unreadable or not what was expected; the message names the file."""


MAX_METADATA_BYTES = 1_000_000
"""Real ``scope`` metadata is a few kB (settings, versions, model lists)."""
MAX_METADATA_DEPTH = 32


def _depth(value: object) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_table_metadata(raw: bytes | str, path: str | Path, key: str) -> dict:
    """The JSON object under metadata ``key`` of ``path``; TableFormatError naming both if it is
    larger than :data:`MAX_METADATA_BYTES`, deeper than :data:`MAX_METADATA_DEPTH`, not JSON or
    not an object."""
    where = f"{path}: {key!r} metadata"
    if len(raw) > MAX_METADATA_BYTES:
        raise TableFormatError(f"{where} is {len(raw):,} bytes (limit {MAX_METADATA_BYTES:,})")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise TableFormatError(f"{where} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TableFormatError(f"{where} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise TableFormatError(f"{where} is a JSON {type(value).__name__}, not an object")
    if _depth(value) > MAX_METADATA_DEPTH:
        raise TableFormatError(f"{where} is nested deeper than {MAX_METADATA_DEPTH} levels")
    return value


def read_json_object(path: str | Path, what: str) -> dict:
    """The JSON object in ``path`` (a side file such as ``meta.json``); TableFormatError naming the
    file and ``what`` it should be when it is not UTF-8, not JSON or not an object."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        value = json.loads(text)
    except UnicodeDecodeError:
        raise TableFormatError(
            f"{path}: {what} is not UTF-8 text (binary or compressed?)"
        ) from None
    except RecursionError:
        raise TableFormatError(f"{path}: {what} is nested too deeply") from None
    except ValueError as exc:
        raise TableFormatError(f"{path}: {what} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise TableFormatError(f"{path}: {what} is a JSON {type(value).__name__}, not an object")
    return value


def metadata_json(attrs: dict, serialise) -> str:
    """``serialise(attrs)``, refused (ValueError) above the size or depth a reader accepts."""
    if _depth(attrs) > MAX_METADATA_DEPTH:
        raise TableFormatError(f"table metadata nested deeper than {MAX_METADATA_DEPTH} levels")
    text = serialise(attrs)
    if len(text.encode()) > MAX_METADATA_BYTES:
        raise TableFormatError(
            f"table metadata of {len(text.encode()):,} bytes (limit {MAX_METADATA_BYTES:,})"
        )
    return text
