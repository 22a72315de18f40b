"""The whole tree is formatted and linted by ruff and type-checked by mypy (run here, so that the
one test command of the README runs them too)."""

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT


def tool(*args):
    exe = shutil.which(args[0], path=str(ROOT / ".venv" / "bin")) or shutil.which(args[0])
    if exe is None:
        mod = {"ruff": "ruff", "mypy": "mypy"}[args[0]]
        return subprocess.run([sys.executable, "-m", mod, *args[1:]], cwd=ROOT, capture_output=True, text=True)
    return subprocess.run([exe, *args[1:]], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize(
    "args",
    [
        ("ruff", "check", "extractor", "tests", "benchmarks"),
        ("ruff", "format", "--check", "extractor", "tests", "benchmarks"),
    ],
    ids=["ruff check", "ruff format"],
)
def test_ruff(args):
    r = tool(*args)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy():
    r = tool("mypy")
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_package_is_in_the_wheel():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "extractor").rglob("__init__.py")}
    assert found | {"extractor.prompts"} == listed
