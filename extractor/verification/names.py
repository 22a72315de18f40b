"""Whether a system name is the paper's own: found in the title or abstract, and no generic word."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Optional

from ..analysis.lexicon import GENERIC_NAME_WORDS, NAME_DETERMINERS
from ..analysis.text import has_markup, normalize_with_map, plain
from ..schema import NameEvidence
from .span import _cuts, _find_all, _in_normalized, _strip_wrapping


def generic_name(name: str) -> bool:
    """A common word or phrase is not a name: "we", "system", "the framework", "LLM", "our approach"."""
    words = [w for w in re.findall(r"[\w\-]+", name.lower()) if w not in NAME_DETERMINERS]
    return not words or all(w in GENERIC_NAME_WORDS or w.rstrip("s") in GENERIC_NAME_WORDS for w in words)


# what a model writes around a name: "**Nexus**", "Nexus (a serverless hypervisor)", "Nexus: a
# hypervisor", "Nexus - a hypervisor", "the Nexus hypervisor" (trailing lower-case words)
_NAME_MARKUP = re.compile(r"^[*_`]+|[*_`]+$")

_NAME_TAIL = (
    re.compile(r"\s*\([^()]*\)?$"),  # the closing bracket went with the wrapping
    re.compile(r"\s*(?::|\s[-–—])\s.*$"),
    re.compile(r"(?:\s+[a-z][a-z\-]*){1,3}$"),
)


def _name_variants(name: str) -> Iterator[str]:
    """Shorter readings of a model's name, in order, none of them a common word."""
    t = _strip_wrapping(_NAME_MARKUP.sub("", name.replace("**", "").replace("`", "")))
    if t != name:
        yield t
    for tail in _NAME_TAIL:
        u = _strip_wrapping(_NAME_MARKUP.sub("", tail.sub("", t)))
        if u != t and u and not generic_name(u):
            yield u


def _name_spaced(name: str) -> Optional[re.Pattern]:
    """The name with its separators free: "NEXUS 2", "Nexus2" and "nexus_2" for "NEXUS-2"."""
    chunks = re.findall(r"[A-Za-z]+|\d+", name)
    if len(chunks) < 2 or re.sub(r"[\s_\-]", "", name) != "".join(chunks):
        return None
    return re.compile(r"(?<![\w\-])" + r"[\s_\-]?".join(map(re.escape, chunks)) + r"(?![\w\-])", re.I)


def verify_name(
    name: Optional[str], title: str, abstract: str
) -> tuple[Optional[bool], Optional[NameEvidence], Optional[str]]:
    """(verified, evidence, why): a name is verified when it stands as a word in the abstract or
    the title and is not a common word; a model's decoration of it (emphasis, a description in
    parentheses or after a colon, a trailing common noun, another separator) is not held against it,
    and the evidence is the name as the paper writes it."""
    ok, evidence, why, _ = check_name(name, title, abstract)
    return ok, evidence, why


def check_name(
    name: Optional[str], title: str, abstract: str
) -> tuple[Optional[bool], Optional[NameEvidence], Optional[str], Optional[str]]:
    """verify_name's answer and the name to store: the paper's spelling of it, or (where the paper
    writes it with markup, "vmcache$^n$") the model's name without its decoration."""
    if not name or not name.strip():
        return None, None, None, name
    name = _strip_wrapping(name.strip())
    if generic_name(name):
        return False, None, f"{name!r} is a common word, not a name", name
    found, matched = _find_name(name, title, abstract), name
    if found is None:
        for matched in _name_variants(name):
            found = _find_name(matched, title, abstract)
            if found is not None:
                break
    if found is None and (rx := _name_spaced(name)) is not None:
        for field, text in (("abstract", abstract), ("title", title)):
            if m := rx.search(text):
                found, matched = NameEvidence(field=field, start=m.start(), end=m.end()), m.group(0)  # type: ignore[arg-type]
                break
    if found is None:
        return False, None, "not in the title or abstract", name
    written = (abstract if found.field == "abstract" else title)[found.start : found.end]
    return True, found, None, (matched if has_markup(written) else written)


def _find_name(name: str, title: str, abstract: str) -> Optional[NameEvidence]:
    where: tuple[tuple[str, str], ...] = (("abstract", abstract), ("title", title))
    for field, text in where:
        for i in _find_all(text, name):
            j = i + len(name)
            if not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")) and not (
                j < len(text) and (text[j].isalnum() or text[j] == "_")
            ):
                return NameEvidence(field=field, start=i, end=j)  # type: ignore[arg-type]
    rx = re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])")
    needle = normalize_with_map(name).text
    for field, text in where:  # LaTeX-wrapped (\textsc{ClawVM}) or typographic variants
        if rx.search(plain(text)) or needle in normalize_with_map(text).text:
            norm = normalize_with_map(text)
            for s, e in _in_normalized(norm, needle, text):
                if not _cuts(text, s, e):
                    return NameEvidence(field=field, start=s, end=e)  # type: ignore[arg-type]
    return None
