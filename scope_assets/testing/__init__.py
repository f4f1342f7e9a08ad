"""Helpers for tests and benchmarks: synthetic tables, quickly trained models, the shared data.

Nothing in the runtime package imports this package. ``shared_dir`` is the one place that
knows where the read-only development data (``../shared`` beside the checkout) lives.
"""

from scope_assets.testing.shared_data import SHARED_ENV, shared_dir, shared_path

__all__ = ["SHARED_ENV", "shared_dir", "shared_path"]
