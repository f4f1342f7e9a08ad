"""Numba's cache stamped package-wide: an edit to a called kernel in another file recompiles."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scope_assets.numba_cache import PACKAGE_ROOT, numba_sources_digest

PACKAGE_INIT = """
from pathlib import Path

import pytest
from scope_assets.numba_cache import install_package_locators
install_package_locators(Path(__file__).resolve().parent)
"""
CALLER = """
from numba import njit
from .callee import value
@njit(cache=True)
def call():
    return value()
"""
CALLEE = """
from numba import njit
@njit(cache=True)
def value():
    return {}
"""


def _run_caller(root: Path) -> str:
    code = "from kernelpkg.caller import call; print(call())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_edit_in_a_called_file_recompiles_the_caller(tmp_path):
    package = tmp_path / "kernelpkg"
    package.mkdir()
    (package / "__init__.py").write_text(PACKAGE_INIT)
    (package / "caller.py").write_text(textwrap.dedent(CALLER))
    (package / "callee.py").write_text(textwrap.dedent(CALLEE).format(1))
    assert _run_caller(tmp_path) == "1"
    assert list((package / "__pycache__").glob("caller.call-*.nbi")), "the caller was not cached"
    (package / "callee.py").write_text(textwrap.dedent(CALLEE).format(2))
    # numba's own per-file stamp would load caller.py's cached code and print 1
    assert _run_caller(tmp_path) == "2"


def test_digest_covers_numba_files_only(tmp_path):
    (tmp_path / "kernel.py").write_text("import numba\n")
    (tmp_path / "plain.py").write_text("x = 1\n")
    before = numba_sources_digest(tmp_path)
    numba_sources_digest.cache_clear()
    (tmp_path / "plain.py").write_text("x = 2\n")
    assert numba_sources_digest(tmp_path) == before
    numba_sources_digest.cache_clear()
    (tmp_path / "kernel.py").write_text("import numba\n\n")
    assert numba_sources_digest(tmp_path) != before
    numba_sources_digest.cache_clear()


STAMP_CHECK = """
import sys
from numba.core.registry import CPUDispatcher
from scope_assets.numba_cache import PACKAGE_ROOT, numba_sources_digest
module = __import__(sys.argv[1], fromlist=["_"])
stamps = [
    obj._cache._impl.locator.get_source_stamp() == numba_sources_digest(PACKAGE_ROOT)
    for obj in vars(module).values()
    if isinstance(obj, CPUDispatcher) and obj.__module__ == sys.argv[1]
    and hasattr(obj._cache, "_impl")
]
print(len(stamps), all(stamps))
"""


def test_every_cached_kernel_is_stamped_package_wide_when_imported_alone():
    """Each module with cached kernels, imported first in a fresh interpreter, gets the
    package-wide stamp (its package's ``__init__`` or its own top installs the locators)."""
    modules = sorted(
        path for path in PACKAGE_ROOT.rglob("*.py") if "cache=True" in path.read_text()
    )
    assert len(modules) >= 10
    for path in modules:
        name = ".".join(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
        done = subprocess.run(
            [sys.executable, "-c", STAMP_CHECK, name], capture_output=True, text=True, check=True
        )
        count, all_stamped = done.stdout.split()
        assert int(count) > 0 and all_stamped == "True", name


def test_moved_numba_internals_warn_and_leave_numba_alone(monkeypatch, tmp_path):
    from numba.core import caching

    from scope_assets.numba_cache import install_package_locators

    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    before = list(impl._locator_classes)
    monkeypatch.delattr(caching, "InTreeCacheLocator")
    with pytest.warns(RuntimeWarning, match="cache locators not found"):
        install_package_locators(tmp_path)
    assert impl._locator_classes == before
