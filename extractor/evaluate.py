"""Score a table against hand-labelled gold: `extractor eval PRED.jsonl GOLD.jsonl`.

Gold format (docs/gold-format.md): one line per paper with `id`, `system_name` (or null),
optional `system_aliases`, and `numbers`, each with `text`, `value` or `low`/`high`, `unit`,
`kind`, `direction`, `metric`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Optional

from .analysis.units import canonical_unit, values_agree
from .core.errors import InputError
from .core.ids import split_arxiv_id
from .schema import GoldPaper


def _norm_name(s: Optional[str]) -> str:
    return re.sub(r"[^0-9a-z]+", "", (s or "").casefold())


def _tokens(s: Optional[str]) -> list[str]:
    return re.findall(r"[0-9a-z]+", (s or "").casefold())


def token_f1(a: Optional[str], b: Optional[str]) -> float:
    ta, tb = _tokens(a), _tokens(b)
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    common = 0
    rest = list(tb)
    for t in ta:
        if t in rest:
            rest.remove(t)
            common += 1
    if common == 0:
        return 0.0
    p, r = common / len(ta), common / len(tb)
    return 2 * p * r / (p + r)


def _eq(a, b) -> bool:
    """Both numbers, and the same number (the verifier's tolerance)."""
    if a is None or b is None:
        return False
    return values_agree(float(a), float(b))


def same_quantity(pred: dict, gold: dict) -> bool:
    """Equal value, or equal range (gold `value` may also match a predicted low==high)."""
    if gold.get("value") is not None:
        return _eq(pred.get("value"), gold["value"])
    if gold.get("low") is not None or gold.get("high") is not None:
        return _eq(pred.get("low"), gold.get("low")) and _eq(pred.get("high"), gold.get("high"))
    return False


@dataclass
class Report:
    papers: int = 0
    missing_papers: int = 0
    papers_with_errors: int = 0
    name_correct: int = 0
    gold_numbers: int = 0
    pred_numbers: int = 0
    matched: int = 0
    gold_results: int = 0
    matched_results: int = 0
    unit_correct: int = 0
    direction_correct: int = 0
    kind_correct: int = 0
    metric_f1_sum: float = 0.0
    class_labelled: int = 0  # matched numbers whose gold has a metric_class
    class_correct: int = 0
    verified: int = 0
    errors: dict = field(default_factory=dict)  # paper id -> list of messages

    @staticmethod
    def _div(a: float, b: float) -> float:
        return a / b if b else 0.0

    def metrics(self) -> dict:
        d = self._div
        p, r = d(self.matched, self.pred_numbers), d(self.matched, self.gold_numbers)
        return {
            "papers": self.papers,
            "missing_papers": self.missing_papers,
            "papers_with_errors": self.papers_with_errors,
            "system_name_accuracy": d(self.name_correct, self.papers),
            "system_name_correct": self.name_correct,
            "number_precision": p,
            "number_recall": r,
            "number_f1": d(2 * p * r, p + r),
            "result_recall": d(self.matched_results, self.gold_results),
            "unit_accuracy": d(self.unit_correct, self.matched),
            "direction_accuracy": d(self.direction_correct, self.matched),
            "kind_accuracy": d(self.kind_correct, self.matched),
            "metric_token_f1": d(self.metric_f1_sum, self.matched),
            "metric_class_accuracy": d(self.class_correct, self.class_labelled),
            "metric_class_labelled": self.class_labelled,
            "verified_share": d(self.verified, self.pred_numbers),
            "gold_numbers": self.gold_numbers,
            "predicted_numbers": self.pred_numbers,
            "matched_numbers": self.matched,
            "gold_result_numbers": self.gold_results,
        }


def load_gold(path: str) -> list[dict]:
    from .store import check_line, iter_table

    gold = []
    for lineno, g in iter_table(path):
        if "numbers" not in g or not isinstance(g["numbers"], list):
            raise InputError(f"{path}:{lineno}: gold line needs a 'numbers' list")
        check_line(GoldPaper, g, path, lineno, "a gold line")  # the labels as docs/gold-format.md gives them
        g["id"] = split_arxiv_id(g["id"])[0]
        gold.append(g)
    if not gold:
        raise InputError(f"{path}: no gold lines")
    return gold


def evaluate(pred: list[dict], gold: list[dict]) -> Report:
    by_id: dict[str, dict] = {}
    for r in pred:
        by_id[split_arxiv_id(str(r["id"]))[0]] = r  # the last line for an id wins, as in the table
    rep = Report()
    for g in gold:
        rep.papers += 1
        errs: list[str] = []
        p = by_id.get(g["id"])
        gnums = g.get("numbers", [])
        rep.gold_numbers += len(gnums)
        rep.gold_results += sum(1 for n in gnums if n.get("kind", "result") == "result")
        if p is None:
            rep.missing_papers += 1
            errs.append("missing from predictions")
            rep.errors[g["id"]] = errs
            continue
        if p.get("status") == "error":
            rep.papers_with_errors += 1
            errs.append(f"error record: {p.get('error')}")
        # system name
        gname = g.get("system_name")
        pname = p.get("system_name")
        names = {_norm_name(x) for x in [gname, *g.get("system_aliases", [])] if x}
        ok = (not pname and not gname) or (bool(pname) and bool(gname) and _norm_name(pname) in names)
        rep.name_correct += ok
        if not ok:
            errs.append(f"system name: predicted {pname!r}, gold {gname!r}")
        # numbers: greedy one-to-one matching by value, ties broken by span text
        pnums = list(p.get("headline_numbers") or [])
        rep.pred_numbers += len(pnums)
        rep.verified += sum(1 for n in pnums if n.get("verified"))
        used: set[int] = set()
        for gn in gnums:
            cands = [i for i, pn in enumerate(pnums) if i not in used and same_quantity(pn, gn)]
            if not cands:
                errs.append(f"missed: {gn.get('text')!r} ({gn.get('kind', 'result')})")
                continue
            i = max(cands, key=lambda i: token_f1(pnums[i].get("text"), gn.get("text")))
            used.add(i)
            pn = pnums[i]
            rep.matched += 1
            if gn.get("kind", "result") == "result":
                rep.matched_results += 1
            rep.unit_correct += canonical_unit(pn.get("unit")) == canonical_unit(gn.get("unit"))
            rep.direction_correct += (pn.get("direction") or "none") == (gn.get("direction") or "none")
            rep.kind_correct += (pn.get("kind") or "result") == (gn.get("kind") or "result")
            rep.metric_f1_sum += token_f1(pn.get("metric"), gn.get("metric"))
            if gn.get("metric_class"):
                rep.class_labelled += 1
                if pn.get("metric_class") == gn["metric_class"]:
                    rep.class_correct += 1
                else:
                    errs.append(
                        f"metric class of {gn.get('text')!r}: predicted {pn.get('metric_class')!r}, "
                        f"gold {gn['metric_class']!r}"
                    )
        for i, pn in enumerate(pnums):
            if i not in used:
                errs.append(f"false positive: {pn.get('text')!r} (value {pn.get('value')}, {pn.get('kind')})")
        if errs:
            rep.errors[g["id"]] = errs
    return rep


def format_report(rep: Report, show_errors: bool = False) -> str:
    m = rep.metrics()
    lines = [
        f"papers                 {m['papers']} ({m['missing_papers']} missing, {m['papers_with_errors']} with errors)",
        f"system name accuracy   {m['system_name_accuracy']:.3f} ({m['system_name_correct']}/{m['papers']})",
        f"number precision       {m['number_precision']:.3f} ({m['matched_numbers']}/{m['predicted_numbers']})",
        f"number recall          {m['number_recall']:.3f} ({m['matched_numbers']}/{m['gold_numbers']})",
        f"number F1              {m['number_f1']:.3f}",
        f"result-number recall   {m['result_recall']:.3f} (of {m['gold_result_numbers']})",
        f"unit accuracy          {m['unit_accuracy']:.3f}  (on matched numbers)",
        f"direction accuracy     {m['direction_accuracy']:.3f}",
        f"kind accuracy          {m['kind_accuracy']:.3f}",
        f"metric token F1        {m['metric_token_f1']:.3f}",
        f"metric-class accuracy  {m['metric_class_accuracy']:.3f} (of {m['metric_class_labelled']} labelled)",
        f"numbers verified       {m['verified_share']:.3f}",
    ]
    if show_errors and rep.errors:
        lines.append("")
        for pid, errs in rep.errors.items():
            lines.append(f"{pid}:")
            lines.extend(f"  - {e}" for e in errs)
    return "\n".join(lines)


def report_json(rep: Report) -> dict:
    return {"metrics": rep.metrics(), "errors": rep.errors}


__all__ = ["evaluate", "load_gold", "format_report", "report_json", "Report", "token_f1", "asdict"]
