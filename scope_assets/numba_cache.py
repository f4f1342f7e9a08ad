"""Numba's on-disk cache, stamped with every numba source file of the package.

Numba stamps a cached function with a hash of its own source file only. A kernel that calls
kernels in other files (the period search's ``search_batch`` calls the LS, phase-binning and
nested-rule kernels) therefore keeps its old machine code after those files change, and an edited
checkout silently computes with stale kernels: an edit to ``kernels_nested.py`` changed no period
until the cache was deleted. The locators here give every cached function of a package one stamp,
the digest of all the package's files that mention numba, so any kernel edit recompiles all of
them (once, ~1 min for the period search).

:func:`install_package_locators` runs before any kernel is compiled: in ``features/__init__``
(every module there uses numba) and at the top of ``lightcurves.cleaning`` and
``ml.inference.knn_kernel`` (their packages' other modules do not need numba).
Where the cache goes is numba's usual choice (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside
the source, else the user-wide cache); only the stamp changes.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from pathlib import Path

import numba
from numba.core import caching

PACKAGE_ROOT = Path(__file__).resolve().parent


@functools.cache
def numba_sources_digest(root: Path) -> bytes:
    """SHA-256 over the relative path and bytes of every ``*.py`` under ``root`` that mentions
    numba, in path order."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if b"numba" in data:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(data)
    return digest.digest()


def _package_locator(base: type, root: Path) -> type:
    """A subclass of numba locator ``base`` that serves only functions defined under ``root``
    and stamps them with :func:`numba_sources_digest` of ``root``."""

    class PackageStampedLocator(base):
        package_root = root

        @classmethod
        def from_function(cls, py_func, py_file):
            if not Path(py_file).resolve().is_relative_to(root):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return numba_sources_digest(root)

    PackageStampedLocator.__name__ = f"PackageStamped{base.__name__}"
    return PackageStampedLocator


def install_package_locators(root: Path = PACKAGE_ROOT) -> None:
    """Put package-stamped versions of numba's file-backed locators first in numba's list, once
    per ``root``. A numba whose caching internals moved gets a warning and numba's own stamps
    (kernels still run; only the cross-file invalidation is lost)."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    bases = tuple(
        getattr(caching, name, None)
        for name in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")
    )
    if not isinstance(classes, list) or None in bases:
        warnings.warn(
            f"numba {numba.__version__}: cache locators not found where expected; cached kernels "
            "are stamped per file, so delete __pycache__/*.nbi after editing a numba kernel",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    if any(getattr(c, "package_root", None) == root for c in classes):
        return
    classes[:0] = [_package_locator(base, root) for base in bases]
