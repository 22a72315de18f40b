"""The offline engine's rules: word lists, name phrases, and the search shortcuts held to the plain
patterns they stand for."""

import random
import re

import pytest
from conftest import EXTRA, read_jsonl

from extractor.analysis import cues as lx
from extractor.analysis import names
from extractor.analysis.words import WordSet

ABSTRACTS = [r["abstract"].lower() for r in read_jsonl(EXTRA)]


def random_texts(pieces, n=2000, seed=7):
    rnd = random.Random(seed)
    return ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14))) for _ in range(n)]


def test_intro_search_only_at_subject_words_finds_what_the_pattern_finds():
    pieces = [
        "we ",
        "we present ",
        "this paper ",
        "this work introduces ",
        "thesis ",
        "owe ",
        "nexus, ",
        ". ",
        "we first design ",
        "this study proposes ",
        "a system ",
    ]
    for text in ABSTRACTS + random_texts(pieces):
        assert [m.span() for m in names._intros(text)] == [m.span() for m in names.INTRO.finditer(text)], text


@pytest.mark.parametrize(
    "words", [lx.PROBLEM_CUES, lx.INCREASE | lx.DECREASE, lx.FOUND], ids=["problem", "cues", "found"]
)
def test_a_grouped_word_pattern_matches_as_the_plain_alternation(words):
    plain = re.compile(r"\b(?:" + "|".join(words.alternatives()) + r")\b")
    grouped = words.pattern()
    for text in ABSTRACTS:
        assert [m.span() for m in grouped.finditer(text)] == [m.span() for m in plain.finditer(text)]


@pytest.mark.parametrize(
    "word, inside",
    [
        pytest.param("reduces", True, id="stem"),
        pytest.param("reduc", True, id="bare_stem"),
        pytest.param("Lower", True, id="case"),
        pytest.param("speed-up", True, id="hyphenated"),
        pytest.param("red", False, id="prefix_of_a_stem"),
        pytest.param("reduc-tion", False, id="stem_then_hyphen"),
    ],
)
def test_word_sets(word, inside):
    assert (word in (lx.INCREASE | lx.DECREASE)) is inside


@pytest.mark.parametrize(
    "title, abstract, name",
    [
        pytest.param("Nexus: I/O offloading", "We introduce Nexus, a hypervisor.", "Nexus", id="intro_phrase"),
        pytest.param("A title", "We present Distributed Page Cache (DPC), a cache.", "DPC", id="acronym"),
        pytest.param("A title", "We build a framework called FooBar that helps.", "FooBar", id="called"),
        pytest.param("VeruSAGE: A Study of Agents", "We study agents.", None, id="study_subtitle"),
        pytest.param("A title", "However, we present a lightweight tool.", None, id="unnamed"),
    ],
)
def test_names(title, abstract, name):
    from extractor.analysis.document import Document

    assert names.find_system_name(Document(abstract, title)) == name


def test_words_are_data():
    assert isinstance(lx.PROBLEM_CUES, WordSet) and "bottleneck" in lx.PROBLEM_CUES
    assert all(isinstance(w, str) for w in lx.HEAD_NOUNS + lx.INTRO_VERBS + lx.CONTEXT_CUES)


@pytest.mark.parametrize(
    "abstract, number, metric, direction",
    [
        pytest.param("Nexus reduces cold-start latency by 39%.", "39%", "cold-start latency", "decrease", id="verb_by"),
        pytest.param(
            "It gives a 7.8X reduction in tail latency.", "7.8X", "tail latency", "decrease", id="reduction_in"
        ),
        pytest.param("Mox lowers the cost per query by 35%.", "35%", "cost per query", "decrease", id="per_before"),
        pytest.param(
            "Wob serves 2.1x more requests per second than vLLM.",
            "2.1x",
            "requests per second",
            "increase",
            id="per_after",
        ),
        pytest.param(
            "Zap cuts tail latency by an order of magnitude and energy consumption by 40%.",
            "40%",
            "energy consumption",
            "decrease",
            id="after_the_number_before",
        ),
        pytest.param(
            "It has a cycle overhead of 82CC and area overhead of 207um2.",
            "207um2",
            "area overhead",
            "none",
            id="after_a_number_with_a_unit",
        ),
        pytest.param(
            "Mox lowers cost per user by 9% and latency per day by 3%.",
            "3%",
            "latency per day",
            "decrease",
            id="per_twice",
        ),
        pytest.param("It is 2x faster per core.", "2x", "speed", "increase", id="per_after_a_comparative"),
        pytest.param("With Foo, tail latency drops by 40%.", "40%", "tail latency", "decrease", id="subject_drops"),
        pytest.param("Memory usage is reduced by 25%.", "25%", "Memory usage", "decrease", id="subject_passive"),
        pytest.param("The accuracy of our model improves by 3%.", "3%", "accuracy", "increase", id="subject_of"),
        pytest.param("Overall cost dropped by 20%.", "20%", "cost", "decrease", id="subject_dropped"),
        pytest.param("Foo improves by 30%.", "30%", None, "increase", id="a_name_is_no_subject_metric"),
        pytest.param("It is limited by 8x overhead.", "8x", "overhead", "none", id="passive_of_no_change"),
        pytest.param(
            "It speeds up training of GPT-3 175B by 1.8x.", "1.8x", "GPT-3", "increase", id="no_word_from_175B"
        ),
    ],
)
def test_metric_phrases(abstract, number, metric, direction):
    from extractor.analysis.document import Document
    from extractor.analysis.reading import read_numbers

    [n] = [n for n in read_numbers(Document(abstract)) if n.text == number]
    assert (n.metric, n.direction) == (metric, direction)


@pytest.mark.parametrize(
    "abstract, baselines",
    [
        pytest.param(
            "Foo achieves 3.5x higher throughput and 60% lower p99 latency than RocksDB.",
            ["RocksDB", "RocksDB"],
            id="two_comparatives_one_than",
        ),
        pytest.param(
            "Foo achieves 3.5x higher throughput and 60% lower latency than B, and 2x than C.",
            ["B", "B", "C"],
            id="the_next_numbers_than_only",
        ),
        pytest.param(
            "Foo achieves 3.5x higher throughput, and it cuts latency by 60% compared to B.",
            [None, "B"],
            id="not_across_a_comma",
        ),
        pytest.param(
            "Foo is 3.5x faster and uses 60% less memory than B.", [None, "B"], id="not_when_a_verb_follows_and"
        ),
    ],
)
def test_a_baseline_shared_by_comparatives_joined_by_and(abstract, baselines):
    from extractor.analysis.document import Document
    from extractor.analysis.reading import read_numbers

    assert [n.baseline for n in read_numbers(Document(abstract))] == baselines


def test_letters_glued_to_digits_are_no_word_of_a_metric():
    from extractor.analysis.document import Document
    from extractor.analysis.reading import read_numbers

    [n] = [n for n in read_numbers(Document("It speeds up training of GPT-3 175B by 1.8x.")) if n.text == "1.8x"]
    assert n.metric and "B" not in n.metric.split()  # "175B" gives no word "B" ("GPT-3 B" before)


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module ("extractor.analysis.text.plain")
        return False


def _package_imports(module: str) -> set[str]:
    """The modules of the extractor package that `module` imports, anywhere in its source (a function
    body's import too): "from ... import taxonomy" is extractor.taxonomy, "from ..base import X" is
    extractor.engines.base."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    package = module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(open(spec.origin, encoding="utf-8").read())):
        if isinstance(node, ast.ImportFrom):
            base = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module
            )
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if _is_module(sub) else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m and (m == "extractor" or m.startswith("extractor."))}


def test_the_rules_version_hashes_every_module_the_rules_read():
    """A module the rules read is a rule module (hashed into RULES_VERSION) or says why it is not:
    an edit to the taxonomy's words or to the sentence splitter changes what the engine writes, so
    provenance must change with it."""
    from extractor.engines.offline import engine

    listed = {f"{package}.{name.removesuffix('.py')}" for package, names in engine._RULE_MODULES for name in names}
    for module in sorted(listed):
        for imported in _package_imports(module):
            assert imported in listed or imported in engine.NOT_RULES, (
                f"{module} imports {imported}: add it to _RULE_MODULES or, with a reason, to NOT_RULES"
            )


def test_an_edit_to_any_rule_module_is_a_new_rules_version():
    from extractor.engines.offline import RULES_VERSION, engine

    sources = engine.rule_sources()
    assert engine.rules_version(sources) == RULES_VERSION
    for i in range(len(sources)):
        edited = sources[:i] + [sources[i] + b"\n"] + sources[i + 1 :]
        assert engine.rules_version(edited) != RULES_VERSION, engine._RULE_MODULES
