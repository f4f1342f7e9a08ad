"""The two errors of the classifier code; each message names the file or table at fault."""


class ModelError(ValueError):
    """A model or its manifest is missing, unreadable or inconsistent; the message names the file."""


class InputError(ValueError):
    """A feature table cannot feed a model; the message names the table and the column."""
