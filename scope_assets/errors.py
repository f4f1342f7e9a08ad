"""The base of the project's own errors, which every CLI reports as one line (exit code 2).

A :class:`ScopeError` means bad input, configuration, files or an outside service, never a bug:
its message names the input and the problem. Domain errors subclass it next to the builtin they
always were (``ValueError``, ``RuntimeError``), so existing ``except`` clauses keep working.
Anything else reaching a CLI's top level is a bug and keeps its traceback.
"""


class ScopeError(Exception):
    """An error of the input or the environment, reported without a traceback."""


class UnsafePathError(ScopeError, ValueError):
    """A field label, name or relative path that would not stay one safe component of its
    directory (e.g. ``296/../..``)."""


class FieldNotFoundError(ScopeError, ValueError):
    """A field the data source does not hold; the message lists the fields it does."""


class SecretFormatError(ScopeError, ValueError):
    """A token or password with characters it cannot hold; the message names only its source."""


class UsageError(ScopeError, ValueError):
    """Command-line flags that contradict each other or are out of range."""


MESSAGE_LIMIT = 2000


def _odd(ch: str) -> bool:
    return (not ch.isprintable() and ch not in "\n\t") or ch == "\ufffd"


def printable(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` fit for a one-line report: binary content summarised, control characters
    escaped, at most ``limit`` characters (a file's raw bytes never reach the terminal)."""
    odd = [i for i, ch in enumerate(text) if _odd(ch)]
    if len(odd) > max(8, len(text) // 10):
        head = text[: odd[0]].rstrip()
        return f"{head} <{len(text) - odd[0]} characters of binary data>".lstrip()
    clean = "".join(repr(ch)[1:-1] if _odd(ch) and ch != "\ufffd" else ch for ch in text)
    clean = clean.replace("\ufffd", "?")
    return clean if len(clean) <= limit else clean[:limit] + f"… ({len(clean) - limit} more)"
