"""Write docs/cli.md, the CLI reference, from the commands' own help (tests/test_docs.py fails when
the file is not what this script writes, so the reference cannot drift from the program).

    .venv/bin/python docs/make_cli_reference.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer.main

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "cli.md"

HEAD = """# CLI reference

Generated from the commands' own help by `docs/make_cli_reference.py` (a test keeps it current);
`extractor COMMAND --help` prints the same. What the commands do, with examples, is in
[commands.md](commands.md); a first walk through them in [tutorial.md](tutorial.md).

Exit codes of every command: `0` done; `1` done, but some papers are error records or input lines
were skipped; `2` bad input or configuration (one line on stderr, nothing else printed); `4`
stopped before `--max-cost`; `130` interrupted (what was finished is kept).
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _is_option(p) -> bool:  # typer carries its own copy of click: its types, not click's
    return p.param_type_name == "option"


def _default(p) -> str:
    if _is_option(p) and (p.is_flag or p.count):
        return ""
    d = p.default
    if d is None or d == () or d == [] or callable(d):
        return ""
    return f"`{d}`"


def _name(p) -> str:
    if _is_option(p):
        names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
        if not p.is_flag and not p.count:
            names += f" {p.name.upper() if p.name else ''}"
        return names
    return f"`{(p.name or '').upper()}`"


def _help(p) -> str:
    text = getattr(p, "help", None) or ""
    if getattr(p, "required", False):
        text += " (required)"
    if _is_option(p) and p.multiple and "repeatable" not in text:
        text += " (repeatable)"
    return _cell(text)


def commands(group, prefix: tuple[str, ...] = ()):
    for name in sorted(group.commands, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        cmd = group.commands[name]
        if hasattr(cmd, "commands"):
            yield from commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


ORDER = ["extract", "fetch", "export", "review", "watch", "batch", "eval"]
ORDER += ["apply", "prepare", "submit", "status", "download", "ingest"]


def reference() -> str:
    from extractor.cli import app

    root = typer.main.get_command(app)
    out = [HEAD]
    for path, cmd in commands(root):
        title = "extractor " + " ".join(path)
        ctx = cmd.context_class(cmd, info_name=title)
        pieces = [re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), x) for x in cmd.collect_usage_pieces(ctx)]
        usage = " ".join([title, *pieces])
        out.append(f"\n## `{title}`\n\n```\n{usage}\n```\n\n{(cmd.help or '').strip()}\n\n")
        args = [p for p in cmd.params if not _is_option(p)]
        opts = [p for p in cmd.params if _is_option(p) and not p.hidden]
        rows = ["| argument / option | what it does | default |", "| --- | --- | --- |"]
        rows += [f"| {_name(p)} | {_help(p)} | {_default(p)} |" for p in [*args, *opts]]
        rows.append("| `-h`, `--help` | this help | |")
        out.append("\n".join(rows) + "\n")
    return "".join(out)


if __name__ == "__main__":
    text = reference()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.exists() and OUT.read_text() == text else 1)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
