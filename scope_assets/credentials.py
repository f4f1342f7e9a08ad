"""Tokens and passwords at the edge: cleaned and checked once, redacted in every message.

Env files often leave a ``\\r`` or ``\\n`` at the end of a token; ``requests`` then refuses the
header and prints its value. :func:`clean_token` strips surrounding whitespace and refuses
anything but printable ASCII, naming only where the token came from. :func:`redact` removes every
representation of a known secret (raw, ``repr`` escapes, URL- and JSON-encoded) from a text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from scope_assets.errors import SecretFormatError

HIDDEN = "<hidden>"
MIN_REDACTED_LENGTH = 4
"""Shorter forms are left alone: hiding every "ab" would garble messages, not protect a secret."""
_known: set[str] = set()
_lock = threading.Lock()


def clean_token(value: str | None, source: str) -> str | None:
    """``value`` stripped of surrounding whitespace; None when empty.

    Raises :class:`SecretFormatError` (naming ``source``, never the value) when the token holds a
    space, a control character or a non-ASCII character.
    """
    if value is None:
        return None
    remember_secret(value)
    token = value.strip()
    if not token:
        return None
    if any(not ("!" <= ch <= "~") for ch in token):
        raise SecretFormatError(
            f"{source} holds a space, a control character or a non-ASCII character; "
            "a token is printable ASCII (check the env file or config for a stray character)"
        )
    remember_secret(token)
    return token


def clean_password(value: str | None, source: str) -> str | None:
    """``value`` without trailing line endings; refuses control characters (names ``source``)."""
    if value is None:
        return None
    remember_secret(value)
    password = value.rstrip("\r\n")
    if not password:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise SecretFormatError(f"{source} holds a control character")
    remember_secret(password)
    return password


def remember_secret(secret: str) -> None:
    """Add ``secret`` to the secrets :func:`redact` removes from every message of this process."""
    if secret and secret.strip():
        with _lock:
            _known.add(secret)


def representations(secret: str) -> list[str]:
    """The forms a secret takes in a message: raw, repr-escaped, URL- and JSON-encoded."""
    forms = {
        secret,
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms |= {f.strip() for f in forms}
    return sorted((f for f in forms if len(f) >= MIN_REDACTED_LENGTH), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every representation of ``secrets`` and of the remembered secrets hidden."""
    with _lock:
        every = set(secrets) | _known
    for secret in sorted(every, key=len, reverse=True):
        for form in representations(secret):
            text = text.replace(form, HIDDEN)
    return text
