"""Dagster definitions of the project (assembled by ``scope_assets.defs.definitions``).

Importing the package silences two Dagster warning categories that every code load would
otherwise print: ``PreviewWarning`` (asset checks with a ``partitions_def``, which the field
checks need) and ``SupersessionWarning`` (the ``dagster`` CLI commands the README still shows
next to their ``dg`` successors). Other warnings stay on.
"""

import warnings

import dagster as dg

for _category in (dg.PreviewWarning, dg.SupersessionWarning):
    warnings.filterwarnings("ignore", category=_category)
