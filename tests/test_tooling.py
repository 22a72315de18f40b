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


def test_the_layers_hold():
    """pyproject.toml's [tool.importlinter] contracts: each layer imports only the layers below it,
    no engine's internals are used outside extractor.engines, no cycle between sibling modules
    (.ci/run checks them too, before the tests)."""
    r = tool("lint-imports", "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_the_layers_catch_a_cycle(tmp_path):
    """The contract can fail: a copy of the package where the verifier reaches up into the
    pipeline, and one where the exports use the offline engine's internals, are both refused."""
    exe = shutil.which("lint-imports", path=str(ROOT / ".venv" / "bin")) or shutil.which("lint-imports")
    assert exe, "import-linter is in the test extras"
    for name, path, line in [
        ("cycle", "verification/span.py", "from ..pipeline import Pipeline  # noqa\n"),
        ("internals", "exports/common.py", "from ..engines.offline.engine import OfflineEngine  # noqa\n"),
    ]:
        copy = tmp_path / name
        shutil.copytree(ROOT / "extractor", copy / "extractor", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
        target = copy / "extractor" / path
        target.write_text(target.read_text() + line)
        r = subprocess.run([exe, "--no-cache"], cwd=copy, capture_output=True, text=True)
        assert r.returncode != 0 and "BROKEN" in r.stdout, (name, r.stdout + r.stderr)
