"""The base of the project's own errors, which every CLI reports as one line (exit code 2).

A :class:`ScopeError` means bad input, configuration, files or an outside service, never a bug:
its message names the input and the problem. Domain errors subclass it next to the builtin they
always were (``ValueError``, ``RuntimeError``), so existing ``except`` clauses keep working.
Anything else reaching a CLI's top level is a bug and keeps its traceback.
"""


class ScopeError(Exception):
    """An error of the input or the environment, reported without a traceback."""


class FieldLabelError(ScopeError, ValueError):
    """A field label that cannot name a directory: not an integer nor ``<label>_specific_ids``."""


class FieldNotFoundError(ScopeError, ValueError):
    """A field the data source does not hold; the message lists the fields it does."""


class SecretFormatError(ScopeError, ValueError):
    """A token or password with characters it cannot hold; the message names only its source."""


class UsageError(ScopeError, ValueError):
    """Command-line flags that contradict each other or are out of range."""
