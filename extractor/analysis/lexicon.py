"""Word lists shared by the engines and the verifier, as plain data."""

from __future__ import annotations

# Words that are not a system's name, though a model may give them as one ("we", "the framework").
GENERIC_NAME_WORDS = frozenset(
    """
we us our ours it its they this that these those i you paper work study article approach method
methods technique techniques system systems framework frameworks tool tools toolkit library engine
runtime model models llm llms ai ml dnn dnns gpu gpus cpu cpus os api design architecture platform
solution solutions scheme mechanism algorithm algorithms prototype implementation service protocol
pipeline agent agents benchmark dataset compiler scheduler database hypervisor kernel network
proposed new novel approach idea technology software hardware application applications none null
unknown unnamed n/a na author authors researchers
""".split()
)

# Words that may precede a generic noun in a non-name ("our proposed approach", "the new system").
NAME_DETERMINERS = frozenset("the a an our this their its proposed new novel presented".split())

# Words a problem or technique sentence may open with that only join it to the sentence before
# ("However, ...", "In this paper, we ..."); the table shows the sentence without them.
LEADING_CONNECTIVES = (
    "however",
    "furthermore",
    "moreover",
    "additionally",
    "in addition",
    "also",
    "thus",
    "therefore",
    "hence",
    "consequently",
    "as a result",
    "to this end",
    "in this paper",
    "in this work",
    "in this article",
    "specifically",
    "finally",
    "first",
    "second",
    "third",
    "lastly",
    "meanwhile",
    "nevertheless",
    "nonetheless",
    "unfortunately",
    "notably",
    "importantly",
    "instead",
    "overall",
    "yet",
    "but",
    "and",
    "here",
)
# ... and purpose clauses that point back: "To address this issue,", "To overcome these challenges,"
LEADING_PURPOSE = (
    r"to (?:address|tackle|overcome|solve|mitigate|fill|bridge|close) (?:this|these|such|the|that) [\w-]+(?: [\w-]+)?,"
)
