"""Which papers a run works on: one meaning for `extract`, `--dry-run`, `batch prepare`, `batch
ingest` and `watch`.

A paper is skipped when it is filtered out by `--category`, when the run has already seen it (the
latest arXiv version wins), or when the table already holds it at that version or a later one,
unless its record there is an error and `--retry-errors` is given, or `--redo` asks for the same
version again (another engine or prompt; review decisions carry over). `--limit` counts the papers
selected. Memory stays flat: the ids seen and done live in IdIndex (a temporary SQLite file past
200,000 ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Optional, TypeVar

from .core.errors import InputError
from .core.ids import version_number
from .schema import Paper
from .sources import read_papers
from .store import Done, IdIndex, read_done


@dataclass
class Counts:
    """What selection set aside, for the run's summary."""

    skipped: int = 0  # input lines/entries that are not usable papers
    duplicates: int = 0
    already_done: int = 0
    filtered: int = 0
    failed_inputs: list[str] = field(default_factory=list)
    supersedes: bool = False  # a selected paper is a newer version of a line in the table
    with_categories: int = 0  # papers that had any category at all (to tell a user why none passed)


def wanted(paper: Paper, categories: list[str]) -> bool:
    """`--category cs.DC` keeps papers in cs.DC; `--category cs` keeps every cs.*."""
    if not categories:
        return True
    return any(c == want or c.startswith(want + ".") for c in paper.categories for want in categories)


def read_inputs(
    specs: Iterable[str], counts: Counts, warn: Callable[[str], None] = lambda s: None, arxiv_max: int = 100
) -> Iterator[Paper]:
    """Papers from every input, in order; a bad record is counted and named, an unreadable input
    is counted and the next one is read."""
    for spec in specs:
        try:
            for item in read_papers(spec, arxiv_max=arxiv_max):
                if isinstance(item, InputError):
                    counts.skipped += 1
                    warn(f"skipped: {item}")
                    continue
                yield item
        except InputError as e:
            counts.failed_inputs.append(str(e))
            warn(f"error: {e}")


T = TypeVar("T")


def select(
    items: Iterable[T],
    table: Optional[str],
    counts: Counts,
    categories: Optional[list[str]] = None,
    retry_errors: bool = False,
    limit: Optional[int] = None,
    paper_of: Callable[[T], Paper] = lambda x: x,  # type: ignore[assignment,return-value]
    done: Optional[Done] = None,
    redo: bool = False,
    on_skip: Optional[Callable[[T], None]] = None,
    again: Optional[Callable[[str], bool]] = None,
) -> Iterator[T]:
    """The papers still to do, in input order (see the module docstring for the rules). `items`
    are papers, or anything that carries one (`paper_of` finds it: a Batch API result). `done` is
    the table as read_done() saw it, when the caller needs it too (the review decisions to carry);
    `redo` extracts again papers the table holds at the same version (another engine or prompt).
    `on_skip(item)` is told of every item set aside (a caller that tracks what is settled);
    `again(id)` says whether a paper this run already took may be taken once more at the same
    version (batch ingest: a success after an error of the same run)."""
    categories = categories or []
    skip = on_skip or (lambda item: None)
    if done is None:
        done = read_done(table) if table else Done()
    seen = IdIndex()
    selected = 0
    try:
        for item in items:
            paper = paper_of(item)
            if paper.categories:
                counts.with_categories += 1
            if not wanted(paper, categories):
                counts.filtered += 1
                skip(item)
                continue
            v = version_number(paper.version)
            before = seen.get(paper.id)
            if before is not None:
                if v < before[0] or (v == before[0] and not (again is not None and again(paper.id))):
                    counts.duplicates += 1
                    skip(item)
                    continue
                counts.supersedes = True  # a newer version (or a retried paper) supersedes this run's line
            else:
                had = done.index.get(paper.id)
                if had is not None:
                    if v < had[0] or (v == had[0] and not redo and not (retry_errors and had[1])):
                        counts.already_done += 1
                        skip(item)
                        continue
                    counts.supersedes = True
            if limit is not None and selected >= limit:
                return
            seen.set(paper.id, v, 0)
            selected += 1
            yield item
    finally:
        seen.close()
        done.close()
