"""Author lists as the programs that write them do: reference managers, databases, feeds."""

from __future__ import annotations

import re

_SCOPUS_ID = re.compile(r"\s*\(\d+\)$")  # "Kwon, Woosuk (57201234567)": Scopus' author id


def split_authors(a: str) -> list[str]:
    """Authors as reference managers and feeds write them, each as "First Last":
    - "Last, First; Last, First" (Zotero, Scopus' full names, Web of Science);
    - "Lamport, Leslie" (one author, surname first); "Smith, J. and Jones, K." (BibTeX's form);
    - "A. Smith, B. Jones and C. Lee" (a feed's list)."""
    if not a.strip():
        return []
    if ";" in a:
        return [_first_last(_SCOPUS_ID.sub("", x)) for x in re.split(r"\s*;\s*", a) if x.strip()]
    by_and = [x.strip() for x in re.split(r"\s+and\s+", a) if x.strip()]
    if len(by_and) > 1 and all(x.count(",") == 1 for x in by_and):
        return [_first_last(x) for x in by_and]  # BibTeX's "Smith, J. and Jones, K."
    parts = [x.strip() for x in a.split(",")]
    if len(parts) == 2 and " " not in parts[0] and parts[1] and " and " not in a:
        return [_first_last(a)]  # "Lamport, Leslie"
    return [x for x in re.split(r",\s*(?:and\s+)?|\s+and\s+", a) if x.strip()]


def _first_last(name: str) -> str:
    """ "Kwon, Woosuk" -> "Woosuk Kwon"; a name with no comma stays as it is."""
    last, sep, first = name.partition(",")
    return f"{first.strip()} {last.strip()}".strip() if sep and first.strip() else name.strip()
