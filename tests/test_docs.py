"""Every command and every option of the CLI says what it does, and flags render as flags (as
sqlite-utils' tests/test_docs.py holds its CLI to its documentation)."""

import click
import pytest
import typer.main
from conftest import ROOT, run_cli

from extractor.cli import app

CLICK = typer.main.get_command(app)


def commands(group=CLICK, prefix=()):
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from commands(cmd, path)
        else:
            yield path, cmd


ALL = list(commands())


@pytest.mark.parametrize("path, cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_and_option_has_help(path, cmd):
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
    for p in cmd.params:
        if isinstance(p, click.Option):
            assert (p.help or "").strip(), f"{' '.join(path)} {p.opts[0]} has no help text"


@pytest.mark.parametrize("path, cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_is_in_the_readme(path, cmd):
    readme = (ROOT / "README.md").read_text()
    assert f"extractor {' '.join(path)}" in readme, f"'extractor {' '.join(path)}' is not in the README"


def test_flags_render_as_flags():
    r = run_cli("extract", "--help", env={"COLUMNS": "200"})
    assert r.returncode == 0
    for flag in ("--no-cache", "--dry-run", "--retry-errors", "--quiet"):
        line = next(x for x in r.stdout.splitlines() if flag in x)
        assert "<bool>" not in line and "BOOLEAN" not in line, line


def test_every_limit_is_in_the_readmes_limits_table():
    """limits.py says the README's "Limits" table is that file: each bound has its row, by name."""
    import re

    from extractor import limits

    section = (ROOT / "README.md").read_text().split("## Limits", 1)[1].split("\n## ", 1)[0]
    names = [n for n in vars(limits) if re.fullmatch(r"[A-Z][A-Z_]+", n)]
    assert names
    missing = [n for n in names if f"`{n}`" not in section]
    assert not missing, f"limits without a row in the README's Limits table: {missing}"
