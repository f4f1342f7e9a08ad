"""The two errors of the classifier code; each message names the file or table at fault."""

from scope_assets.errors import ScopeError


class ModelError(ScopeError, ValueError):
    """A model or its manifest is missing, unreadable or inconsistent; the message names the file."""


class InputError(ScopeError, ValueError):
    """A feature table cannot feed a model; the message names the table and the column."""
