"""The compiled build (mypyc, see setup.py) of the offline engine's hot modules.

It runs the same source as C; these tests hold it to the Python source: the modules type-check
(mypyc trusts the annotations and checks them at run time), both builds give the same records,
and an edited source is never shadowed by an older compiled copy.
"""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, read_jsonl, run_cli

import extractor
from extractor._native import COMPILED

PURE = os.environ.get("EXTRACTOR_PURE_PYTHON") == "1"


def test_compiled_modules_type_check(tmp_path):
    files = [str(ROOT / "extractor" / rel) for rel in COMPILED.values()]
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), *files],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(PURE, reason="EXTRACTOR_PURE_PYTHON=1: the run is of the Python source")
def test_the_install_is_compiled():
    # `pip install -e .` compiles (setup.py); without a C compiler it installs plain Python, and
    # this test says so instead of letting the others pass on the slower build unnoticed
    assert extractor.NATIVE, "the offline engine's modules are not compiled: see setup.py (needs a C compiler)"


@pytest.mark.skipif(not extractor.NATIVE, reason="no compiled build to compare with")
def test_compiled_and_python_builds_give_the_same_records(tmp_path):
    inputs = [ROOT / "data/arxiv-systems-2026-04.atom.xml", ROOT / "tests/data/systems-abstracts-extra.jsonl"]
    out = {}
    for build, env in (("compiled", {}), ("python", {"EXTRACTOR_PURE_PYTHON": "1"})):
        probe = subprocess.run([sys.executable, "-c", "import extractor; print(extractor.NATIVE)"],
                               capture_output=True, text=True, env={**os.environ, **env})
        assert probe.stdout.strip() == str(build == "compiled")  # each run is of the build it names
        path = tmp_path / f"{build}.jsonl"
        r = run_cli("extract", *inputs, "-o", path, "-q", env=env)
        assert r.returncode == 0, r.stderr
        recs = read_jsonl(path)
        for rec in recs:
            rec["provenance"].pop("time")
        out[build] = recs
    assert len(out["compiled"]) == 60
    assert out["compiled"] == out["python"]


@pytest.mark.skipif(not extractor.NATIVE, reason="no compiled build to shadow the source")
def test_an_edited_source_runs_instead_of_the_older_compiled_copy(tmp_path):
    # a copy of the installed package: the compiled modules, their shared library, the sources
    shutil.copytree(ROOT / "extractor", tmp_path / "extractor", ignore=shutil.ignore_patterns("__pycache__"))
    for lib in ROOT.glob("extractor__mypyc*"):
        shutil.copy(lib, tmp_path)
    probe = "import extractor, extractor.text as t; print(extractor.NATIVE, t.__file__.endswith('.py'))"

    def run():
        env = {k: v for k, v in os.environ.items() if k != "EXTRACTOR_PURE_PYTHON"}
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                              env={**env, "PYTHONPATH": str(tmp_path)})

    r = run()
    assert r.stdout.split() == ["True", "False"] and not r.stderr, r.stderr
    with open(tmp_path / "extractor" / "text.py", "a") as f:
        f.write("\nEDITED = True\n")
    r = run()
    assert r.stdout.split() == ["False", "True"]
    assert "text.py changed since the compiled build" in r.stderr and len(r.stderr.strip().splitlines()) == 1
