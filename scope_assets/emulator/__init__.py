"""Kowalski and Fritz emulators on 127.0.0.1, seeded from a local archive, with fault injection.

Library use (tests, demos)::

    with start_emulator(archive_dir) as emu:
        emu.kowalski_url, emu.fritz_url           # http://127.0.0.1:<port>
        emu.kowalski.inject(503, count=2)         # faults: status, count, delay_s, body, …
        emu.fritz.faults.set_rate_limit(5, 10)    # nginx-style 429 HTML above 5 req/s
        emu.fritz_service.fail_classification_batch(item=3)
        emu.fritz.requests("POST", "/api/classification")   # the request log

The same controls over HTTP, on either server: ``POST /_emulator/faults`` (a Fault as JSON),
``POST /_emulator/ratelimit``, ``GET|DELETE /_emulator/requests``, ``POST /_emulator/reset``;
Fritz also ``POST /_emulator/batch_failure {"item", "count"}``, ``POST /_emulator/version
{"not_found_status", "microseconds"}`` and ``POST /_emulator/users``; Kowalski ``POST
/_emulator/cost {"ms_per_document"}`` (emulated query cost against ``max_time_ms``).
"""

from scope_assets.emulator.archive_collections import load_kowalski_catalogs
from scope_assets.emulator.faults import Fault, LoggedRequest
from scope_assets.emulator.runtime import (
    DEMO_FRITZ_TOKENS,
    DEMO_KOWALSKI_USERS,
    Emulator,
    start_emulator,
)

__all__ = [
    "DEMO_FRITZ_TOKENS",
    "DEMO_KOWALSKI_USERS",
    "Emulator",
    "Fault",
    "LoggedRequest",
    "load_kowalski_catalogs",
    "start_emulator",
]
