"""The one top-level handler of every console script.

The project's own errors (:class:`~scope_assets.errors.ScopeError`) and file-system errors that
name a file become one line ``error: <message>`` on stderr and exit code 2; a secret never
reaches that line (:func:`~scope_assets.credentials.redact`). Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence

from scope_assets.credentials import redact
from scope_assets.errors import ScopeError, printable

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

Main = Callable[[Sequence[str] | None], int]


def report_error(message: str) -> int:
    """Print ``error: <message>`` (secrets redacted, binary summarised); the bad-input exit code."""
    print(f"error: {printable(redact(message))}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _names_a_file(exc: OSError) -> bool:
    return exc.filename is not None or isinstance(exc, FileNotFoundError | PermissionError)


def cli_main(main: Main) -> Main:
    """Wrap a console script's ``main(argv)`` with the top-level handler."""

    @functools.wraps(main)
    def run(argv: Sequence[str] | None = None) -> int:
        try:
            return main(argv)
        except ScopeError as exc:
            return report_error(str(exc))
        except OSError as exc:
            if not _names_a_file(exc):
                raise
            return report_error(str(exc))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED

    return run
