"""One text object per paper: the abstract and what every stage derives from it, each computed
once, on first use, and shared by the engine, the verifier and the recall check (as langextract
passes its `Document`)."""

from __future__ import annotations

from bisect import bisect_right
from functools import cached_property
from typing import Any, Optional, Protocol

from .quantities import Quantity, derived_readings, scan
from .text import Normalized, Sentence, has_markup, lower_same_length, normalize_with_map, split_sentences


class PaperText(Protocol):
    """What a document takes of a paper (an `extractor.schema.Paper`: the record types sit above the
    text analysis, which reads only these two fields)."""

    abstract: str
    title: str


class Document:
    """The abstract of one paper (the text every offset refers to) and its title."""

    def __init__(self, text: str, title: str = "", paper: Optional[Any] = None):
        self.text = text
        self.title = title
        self.paper = paper
        self.memo: dict = {}  # what an engine or the verifier read once for this document

    @classmethod
    def of(cls, paper: PaperText) -> Document:
        return cls(paper.abstract, paper.title, paper)

    @cached_property
    def lower(self) -> str:
        """The text lower-cased, offsets unchanged."""
        return lower_same_length(self.text)

    @cached_property
    def sentences(self) -> list[Sentence]:
        return split_sentences(self.text)

    @cached_property
    def _sentence_starts(self) -> list[int]:
        return [s.start for s in self.sentences]

    def sentence_index(self, pos: int) -> Optional[int]:
        """Index of the sentence that holds offset `pos`."""
        i = bisect_right(self._sentence_starts, pos) - 1
        if i >= 0 and pos < self.sentences[i].end:
            return i
        return None

    def sentence_at(self, pos: int) -> Optional[Sentence]:
        i = self.sentence_index(pos)
        return None if i is None else self.sentences[i]

    @cached_property
    def normalized(self) -> Normalized:
        """Case-folded, LaTeX- and typography-normalised text with single spaces (for alignment)."""
        return normalize_with_map(self.text)

    @cached_property
    def loose(self) -> Normalized:
        """The normalised text with no spaces at all ("39 %" and "39%" read alike)."""
        return normalize_with_map(self.text, spaces=False)

    @cached_property
    def display(self) -> Normalized:
        """LaTeX, entities and typography resolved, case kept (what the scanner reads when the
        abstract has markup, and where the name search looks in a LaTeX abstract)."""
        return normalize_with_map(self.text, casefold=False)

    @cached_property
    def scanned(self) -> list[Quantity]:
        """The scanner's reading of the abstract, the numbers that modify a noun included."""
        return scan(self.text, display=self.display if has_markup(self.text) else None, modifiers=True)

    @cached_property
    def quantities(self) -> list[Quantity]:
        """Every quantity claim in the abstract, with the context rules (no years, versions, model
        names or citation markers, and no number that only modifies a noun)."""
        return [q for q in self.scanned if not q.modifier]

    @cached_property
    def claimable(self) -> list[Quantity]:
        """Every reading a claim may stand on: the quantities, the numbers that modify a noun ("a
        16-GPU testbed"), each end of a range ("64 KB" of "between 64 KB and 4 MB") and each "from A
        to B" pair as one range. The verifier's; the offline reading and the uncovered numbers keep to
        `quantities`."""
        return sorted(self.scanned + derived_readings(self.text, self.quantities), key=lambda q: (q.start, -q.end))

    @cached_property
    def all_quantities(self) -> list[Quantity]:
        """Every number in the abstract, claim or not (a year, a version): what a span can be read as."""
        return scan(self.text, context=False)
