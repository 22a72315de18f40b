"""The user's fields as the offline engine answers them: only where a declaration gives it a way (its
`pattern`, its `keywords`); otherwise null, `why: "needs an LLM engine"`. It never guesses.
"""

from __future__ import annotations

import time

import regex

from ...core.limits import PATTERN_SECONDS
from ...fields import NEEDS_LLM, FieldSpec, keyword_hits


# -- the offline engine ----------------------------------------------------------------------------
def offline_answers(title: str, abstract: str, specs: list[FieldSpec]) -> dict[str, dict]:
    """What the declarations let a rule find; null with `why` otherwise (never a guess). The
    patterns of all fields share one budget per abstract (PATTERN_SECONDS): thirty fields cannot hold
    one abstract for thirty times the budget."""
    out: dict[str, dict] = {}
    ends = time.monotonic() + PATTERN_SECONDS
    for s in specs:
        ans: dict = {"value": None, "evidence": None}
        if s.pattern:
            # `regex`, not `re`: a user's pattern that backtracks without end ("(?:\w+\s?){1,40}\d+" on a
            # long run of words with no digit) stops at the deadline, where re holds the run for ever
            left = ends - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                m = regex.search(s.pattern, abstract, regex.I, timeout=left)
            except TimeoutError:
                ans["why"] = (
                    f"the fields' patterns took more than {PATTERN_SECONDS} s on this abstract "
                    "(a pattern backtracks: make its repeats unambiguous)"
                )
                out[s.name] = ans
                continue
            if m:
                groups = m.groupdict()
                val = groups.get("value") if "value" in groups else (m.group(1) if m.re.groups else m.group(0))
                ans = {"value": True if s.type == "boolean" else val, "evidence": m.group(0)}
                if s.type == "list":
                    ans["value"] = [val]
            else:
                ans["why"] = "the field's pattern is not in the abstract"
        elif s.keywords:
            found = []
            for value, words in s.keywords.items():
                hits = keyword_hits(abstract, words)
                if hits:
                    found.append((min(h.start() for h in hits), value, min(hits, key=lambda h: h.start()).group(0)))
            if found:
                found.sort()
                if s.type == "list":
                    ans = {"value": [v for _, v, _ in found], "evidence": found[0][2]}
                else:
                    _, value, ev = found[0]
                    ans = {"value": (value.lower() == "true") if s.type == "boolean" else value, "evidence": ev}
            else:
                ans["why"] = "none of the field's keywords is in the abstract"
        else:
            ans["why"] = NEEDS_LLM
        out[s.name] = ans
    return out
