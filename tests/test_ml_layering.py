"""Where things may be imported: test helpers never by runtime code, Keras/TensorFlow only
through the one module that sets their environment."""

import re
from pathlib import Path

import scope_assets

PACKAGE = Path(scope_assets.__file__).resolve().parent
REPO = PACKAGE.parent
KERAS_RUNTIME = PACKAGE / "ml" / "backends" / "keras_runtime.py"


def _python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py"))


def test_runtime_code_does_not_import_the_test_helpers():
    imports = re.compile(r"^\s*(import|from)\s+scope_assets\.testing\b", re.MULTILINE)
    runtime = [p for p in _python_files(PACKAGE) if p.relative_to(PACKAGE).parts[0] != "testing"]
    assert not [p for p in runtime if imports.search(p.read_text())]


def test_keras_and_tensorflow_are_imported_in_one_place():
    imports = re.compile(r"^\s*(import|from)\s+(keras|tensorflow)\b", re.MULTILINE)
    files = _python_files(PACKAGE, REPO / "tests", REPO / "bench")
    assert [p for p in files if imports.search(p.read_text())] == [KERAS_RUNTIME]
    here = Path(__file__).resolve()
    setting = [p for p in files if p != here and "KERAS_BACKEND" in p.read_text()]
    assert setting == [KERAS_RUNTIME]
