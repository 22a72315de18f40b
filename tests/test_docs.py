"""Every command and every option of the CLI says what it does, and flags render as flags (as
sqlite-utils' tests/test_docs.py holds its CLI to its documentation)."""

import importlib.util
import json
import re

import pytest
import typer.main
from conftest import ROOT, run_cli

from extractor.cli import app

CLICK = typer.main.get_command(app)


def commands(group=CLICK, prefix=()):
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        if hasattr(cmd, "commands"):  # typer carries its own copy of click: not click.Group
            yield from commands(cmd, path)
        else:
            yield path, cmd


ALL = list(commands())


@pytest.mark.parametrize("path, cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_and_option_has_help(path, cmd):
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
    for p in cmd.params:
        if p.param_type_name == "option":
            assert (p.help or "").strip(), f"{' '.join(path)} {p.opts[0]} has no help text"


@pytest.mark.parametrize("path, cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_is_in_the_manual(path, cmd):
    """Each command has its section in docs/commands.md (what it does, with examples)."""
    manual = (ROOT / "docs" / "commands.md").read_text()
    assert f"extractor {' '.join(path)}" in manual, f"'extractor {' '.join(path)}' is not in docs/commands.md"


def test_the_cli_reference_is_current():
    """docs/cli.md is what docs/make_cli_reference.py writes from the commands' own help: every
    command and option, with its help and default."""
    spec = importlib.util.spec_from_file_location("make_cli_reference", ROOT / "docs" / "make_cli_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = mod.reference()
    for path, cmd in ALL:
        assert f"## `extractor {' '.join(path)}`" in text
        for p in cmd.params:
            if p.param_type_name == "option" and not p.hidden:
                assert f"`{p.opts[0]}`" in text, (path, p.opts[0])
    assert (ROOT / "docs" / "cli.md").read_text() == text, (
        "docs/cli.md is stale: run .venv/bin/python docs/make_cli_reference.py"
    )


def test_flags_render_as_flags():
    r = run_cli("extract", "--help", env={"COLUMNS": "200"})
    assert r.returncode == 0
    for flag in ("--no-cache", "--dry-run", "--retry-errors", "--quiet"):
        line = next(x for x in r.stdout.splitlines() if flag in x)
        assert "<bool>" not in line and "BOOLEAN" not in line, line


def test_every_limit_is_in_the_limits_table():
    """core/limits.py says docs/limits.md's "Limits" table is that file: each bound has its row, by name."""
    import re

    from extractor.core import limits

    section = (ROOT / "docs" / "limits.md").read_text().split("## Limits", 1)[1].split("\n## ", 1)[0]
    names = [n for n in vars(limits) if re.fullmatch(r"[A-Z][A-Z_]+", n)]
    assert names
    missing = [n for n in names if f"`{n}`" not in section]
    assert not missing, f"limits without a row in docs/limits.md's Limits table: {missing}"


def test_the_readme_fits_on_one_screen_and_every_link_resolves():
    """The README is a one-screen start; it and every page of docs/ link only to files that exist
    (and to headings that exist, for links into a page)."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 70, "the README is a one-screen start: the manual is docs/"
    for cmd in (
        "python3.11 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/extractor extract",
        "pytest -q -n auto",
    ):
        assert cmd in readme
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in readme, "the last line of .ci/run is the README's test command"
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        prose = re.sub(r"```.*?```|`[^`\n]*`", "", page.read_text(), flags=re.S)  # not code
        for target in re.findall(r"\]\(<?([^)>\s]+)>?\)", prose):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text()):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def _anchors(text):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for h in re.findall(r"^#+ (.+)$", text, re.M):
        out.add(re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-"))
    return out


def _python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_the_python_api_page_runs(monkeypatch, capsys, server):
    """Every code block of docs/python-api.md runs, in order, in the repository's directory, as a
    reader would paste them (no model configured); then its LLM example against a real local
    OpenAI-compatible server through the real openai client."""
    import openai_fake as fake

    for k in [k for k in __import__("os").environ if k.startswith("OPENAI_")]:
        monkeypatch.delenv(k)
    monkeypatch.chdir(ROOT)
    blocks = _python_blocks(ROOT / "docs" / "python-api.md")
    assert len(blocks) >= 8
    ns: dict = {}
    for block in blocks:
        exec(compile(block, "docs/python-api.md", "exec"), ns)
    out = capsys.readouterr().out
    assert "Nexus" in out and "value 73% but the span '37%' says 37%" in out
    srv = server(fake.for_paper)
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    (llm_block,) = [b for b in blocks if 'extractor.engine("openai"' in b]
    exec(compile(llm_block, "docs/python-api.md", "exec"), ns)
    out = capsys.readouterr().out
    assert out.count(" ok ") == 2 and len(srv.requests) >= 2, out


def test_the_notebook_runs_and_shows_what_it_prints(monkeypatch, capsys):
    """docs/notebook.ipynb's code cells run in order and print what the notebook shows."""
    for k in [k for k in __import__("os").environ if k.startswith("OPENAI_")]:
        monkeypatch.delenv(k)
    monkeypatch.chdir(ROOT)
    nb = json.loads((ROOT / "docs" / "notebook.ipynb").read_text())
    ns: dict = {}
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(cells) >= 4
    for cell in cells:
        exec(compile("".join(cell["source"]), "notebook.ipynb", "exec"), ns)
        shown = "".join(t for o in cell["outputs"] if o.get("name") == "stdout" for t in o["text"])
        assert capsys.readouterr().out == shown, "docs/notebook.ipynb is stale: run docs/make_notebook.py"
