"""Which build of the offline engine's hot modules runs: compiled (mypyc) or the Python source.

`pip install` compiles the modules in COMPILED with mypyc (see setup.py): the same source, run
as C, in about a quarter less time on the offline path. Python imports a compiled module in
preference to its .py file, so an edited .py next to an older build would be ignored silently;
the build records a hash of each source (`_build_info.py`) and, when any source differs from what
was compiled, or EXTRACTOR_PURE_PYTHON=1 is set, the .py files are imported instead. Written by
hand: no library covers 'prefer the source when the compiled copy is stale'.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

# module name -> source path relative to the package directory (setup.py reads this dict too)
COMPILED = {
    "extractor.text": "text.py",
    "extractor.quantities": "quantities.py",
    "extractor.engines.offline": "engines/offline.py",
}

_PACKAGE_DIR = Path(__file__).resolve().parent


def source_hash(rel: str) -> str:
    return hashlib.sha256((_PACKAGE_DIR / rel).read_bytes()).hexdigest()


def _built_hashes() -> dict[str, str] | None:
    try:
        from ._build_info import SOURCE_HASHES
    except ImportError:
        return None  # no compiled build: plain Python
    return SOURCE_HASHES


def _compiled_file(rel: str) -> bool:
    stem = _PACKAGE_DIR / rel[: -len(".py")]
    return any(Path(str(stem) + sfx).exists() for sfx in importlib.machinery.EXTENSION_SUFFIXES)


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Import the listed modules from their .py files, not from the compiled copies beside them."""

    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        return importlib.util.spec_from_file_location(fullname, _PACKAGE_DIR / COMPILED[fullname])


def _choose() -> tuple[bool, list[str]]:
    """(compiled modules in use, sources whose compiled copy is not of them)."""
    present = {rel for rel in COMPILED.values() if _compiled_file(rel)}
    if not present:
        return False, []  # never compiled, or the compilation failed: the Python package
    built = _built_hashes() or {}
    stale = [rel for rel in COMPILED.values()
             if rel not in present or built.get(rel) != source_hash(rel)]
    if stale or os.environ.get("EXTRACTOR_PURE_PYTHON") == "1":
        sys.meta_path.insert(0, _SourceFirst(set(COMPILED)))
        return False, stale
    return True, []


NATIVE, STALE = _choose()
if STALE:
    print(f"extractor: warning: {', '.join(STALE)} changed since the compiled build; running the Python "
          "source (run `pip install -e .` again to recompile)", file=sys.stderr)
