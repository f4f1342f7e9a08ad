"""Dagster definitions of the project (assembled by ``scope_assets.defs.definitions``).

Importing the package silences Dagster's ``PreviewWarning``, which every code load would
otherwise print twice: the field checks need asset checks with a ``partitions_def``, a preview
feature of Dagster 1.13. Other warnings stay on. (The ``SupersessionWarning`` of the older
``dagster`` CLI commands is printed by the command before any project code loads; the Makefile
silences it for the commands it runs.)
"""

import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.PreviewWarning)
