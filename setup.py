"""Compiles the offline engine's hot modules with mypyc (same source, run as C: the offline path
takes about a quarter less time). Everything else is in pyproject.toml. EXTRACTOR_PURE_PYTHON=1
skips the compilation; if it fails (no C compiler), the package installs as plain Python."""

import ast
import hashlib
import os
import sys
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent


def _compiled_sources() -> list[str]:
    """The modules listed in extractor/_native.py (which picks the build at import time); read, not
    imported, as the build environment has none of the package's dependencies."""
    for node in ast.parse((ROOT / "extractor" / "_native.py").read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED":
            return list(ast.literal_eval(node.value).values())
    raise RuntimeError("COMPILED not found in extractor/_native.py")


COMPILED = _compiled_sources()
INFO = ROOT / "extractor" / "_build_info.py"


def _compiled_extensions() -> list:
    if {"egg_info", "dist_info"} & set(sys.argv[1:]):
        return []  # pip asks for metadata first: no need to run mypyc for that
    if INFO.exists():
        INFO.unlink()  # rewritten below only for a build that compiles
    if os.environ.get("EXTRACTOR_PURE_PYTHON") == "1":
        # an editable install builds in the source tree: drop compiled copies an earlier build left
        built = [p for rel in COMPILED for p in (ROOT / "extractor").glob(rel[:-3] + ".*") if p.suffix != ".py"]
        for lib in [*ROOT.glob("extractor__mypyc.*"), *built]:
            lib.unlink()
        return []
    try:
        from mypyc.build import mypycify

        # --ignore-missing-imports: the build environment has mypy but not pydantic; pydantic's
        # types are then Any here (tests/test_native.py type-checks with pydantic installed)
        exts = mypycify(["--ignore-missing-imports", *(f"extractor/{rel}" for rel in COMPILED)],
                        opt_level="3", group_name="extractor")
    except (Exception, SystemExit) as e:  # mypyc exits on a type error
        print(f"extractor: not compiled, installing the plain-Python package ({e!r})")
        return []
    for ext in exts:
        ext.optional = True  # a failed C compilation leaves the plain-Python package
    hashes = {rel: hashlib.sha256((ROOT / "extractor" / rel).read_bytes()).hexdigest() for rel in COMPILED}
    INFO.write_text("# written by setup.py: the sources the compiled modules were built from\n"
                    f"SOURCE_HASHES = {hashes!r}\n")
    return exts


setup(ext_modules=_compiled_extensions())
