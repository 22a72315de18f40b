"""The offline engine's words, as plain data. The rules (names.py, sentences.py, claims.py) build
their patterns from these lists; change a list here and the rules version (RULES_VERSION, a hash
of the rule modules) changes with it. A "*" ends a stem: "reduc*" is reduce, reduces, reduction ...
"""

from __future__ import annotations

from .words import WordSet

# --- naming what a paper built ---------------------------------------------------------------------

# "We present / this paper introduces X"
INTRO_SUBJECTS = ("we", "this paper", "this work", "this article", "this study")
INTRO_VERBS = (
    "present",
    "introduce",
    "propose",
    "design",
    "describe",
    "build",
    "develop",
    "implement",
    "prototype",
    "realize",
    "realise",
)  # each also with -s, -d, -ed
INTRO_ADVERBS = ("first", "also", "then", "further", "therefore", "thus", "hence")  # "we first design"
INTRO_SECOND_VERBS = ("evaluate", "implement", "open-source")  # "we design and evaluate X"

# "an ... framework called X", "a new system, X": the noun before a name (case-sensitive: "OS")
HEAD_NOUNS = (
    "framework",
    "system",
    "tool",
    "toolkit",
    "library",
    "engine",
    "runtime",
    "scheduler",
    "compiler",
    "approach",
    "method",
    "technique",
    "mechanism",
    "architecture",
    "platform",
    "service",
    "protocol",
    "model",
    "algorithm",
    "design",
    "layer",
    "OS",
    "hypervisor",
    "filesystem",
    "file system",
    "database",
    "benchmark",
    "simulator",
    "prototype",
    "solution",
    "pipeline",
    "language",
    "agent",
)
CALLED = ("called", "named", "dubbed", "termed", "coined")  # "a system called X"

# Words that start a sentence or a phrase and are never a system's name.
NOT_NAMES = frozenset(
    """
We Our The This These It In A An To First Second Finally Moreover However Specifically Furthermore Additionally
Also Here Existing LLM LLMs AI GPU GPUs CPU CPUs OS API ML DNN DNNs I II III
""".split()
)
# a title's "Prefix: subtitle" names nothing when the prefix starts with one of these ...
NOT_TITLE_NAME_STARTS = (
    "a",
    "an",
    "the",
    "on",
    "towards",
    "toward",
    "why",
    "how",
    "when",
    "what",
    "is",
    "are",
    "do",
    "does",
    "can",
    "beyond",
    "rethinking",
)
# ... or when the subtitle says the paper is a study
STUDY_ADJECTIVES = (
    "large-scale",
    "comprehensive",
    "systematic",
    "empirical",
    "experimental",
    "first",
    "measurement",
    "comparative",
)
STUDY_NOUNS = (
    "study",
    "survey",
    "analysis",
    "characterisation",
    "characterization",
    "review",
    "overview",
    "evaluation",
    "position",
    "vision",
    "perspective",
    "lessons",
    "sok",
    "case study",
    "tutorial",
)

# --- problem and technique sentences ------------------------------------------------------------------

PROBLEM_CUES = WordSet("""
however challenge challenges challenging problem problems suffer suffers bottleneck bottlenecks limited lack lacks
costly expensive difficult remains inefficien* fail fails struggle struggles unfortunately yet but overhead
overheads poor degrad* waste* risk issue issues hard cannot unable
""")
TECHNIQUE_CUES = ("key insight", "our approach", "our design", "we propose", "we leverage", "leverages", "uses", "by")

# --- what a number says -------------------------------------------------------------------------------

INCREASE = WordSet("""
improv* increas* gain gains higher more faster speedup speedups speed-up speed-ups boost* outperform* accelerat*
better raise raises doubl* tripl* greater exceed* up
""")
DECREASE = WordSet("""
reduc* lower* decreas* fewer less cut cuts save saves saved saving savings shrink* drop drops dropped smaller eliminates
eliminated eliminating halv* degradation slowdown down shorter mitigat*
""")
# a metric that is the subject of its change: "tail latency drops by 40%", "memory usage is reduced by"
SUBJECT_CHANGE_VERBS = WordSet("""
improves improved increases increased rises rose grows grew drops dropped falls fell decreases decreased declines
declined shrinks shrank reduced lowered cut boosted
""")
# function words that end a noun phrase
STOP = WordSet("""
than compared relative versus vs vs. over while when with across on at under in for from to by per and or which that
thus thereby respectively whereas without against using after before through of during as within among is are was
were be been via can could may might will would should must not due
""")
# "a 39% reduction in X": the word after a number that says it is a change
RESULT_HEADS = WordSet("""
reduction reductions improvement improvements increase increases decrease decreases gain gains speedup speedups
speed-up higher lower fewer more less faster slower better smaller larger greater
""")
COMPARATIVE_HEADS = WordSet("higher lower fewer more less faster slower better smaller larger greater")
DETERMINERS = WordSet("the a an its their our overall all total")
# verbs that report a paper's outcome ("achieves", "reduces"); they also end a noun phrase
RESULT_VERBS = WordSet("""
achiev* improv* reduc* outperform* accelerat* lower* increas* eliminat* sav* enabl* complet* deliver* yield* attain*
demonstrat* show* discover* need needs requir* incur* add adds cut cuts keep keeps keeping bring* translat* range
ranges decreas* mitigat* shorten* worsen* offer* provid* impos*
""")
# nouns the result-verb stems would take for verbs ("requir*" is not "requirements")
VERB_LOOKALIKES = WordSet("requirement requirements achievement achievements demonstration demonstrations completion")
# words that end a noun phrase after its first word: "cloud servers supporting ...", "16nm
# technology confirms ...", "articles published in ..."
NP_ENDS = WordSet("""
supporting reaching depending published extracted including using running serving spanning compared confirms
uncovers reveals shows
""")
# pronouns are no metric ("It is 1.5x faster than X": the comparative names the metric)
PRONOUNS = WordSet("it its they them this these that those which we our us he she one")
# what a metric phrase does not start with: "the architecture's minimal footprint", "small cycle overhead"
SOFT_ADJECTIVES = WordSet("small minimal modest significant substantial key notable considerable marginal negligible")
# "a set of tasks", "a suite of benchmarks": the noun is what follows "of"
GROUP_NOUNS = WordSet("set sets suite range variety collection series group total")
# "0.618 fraction of the active parties": the noun keeps what follows "of"
COUNTING_NOUNS = WordSet("fraction share percentage proportion number")
# what "per" divides by inside a metric phrase ("cost per query", "requests per second"); before
# any other word "per" ends the phrase
PER_UNITS = WordSet("""
second sec query request token operation op call step iteration epoch sample byte hour minute day user node core
gpu cpu watt dollar transaction packet decision message job instance device server
""")
# "hundreds of 4KB accesses": the quantity word is not the metric
QUANTITY_WORDS = WordSet("hundreds thousands millions billions dozens tens")
# "3.7x faster than a traditional fork": the comparative names the metric when no noun does
COMPARATIVE_METRICS = {"faster": "speed", "slower": "speed", "quicker": "speed", "cheaper": "cost"}
# a measure's plural, singular in a metric ("1.15x speedups" -> speedup); counted things stay plural
SINGULAR = {"speedups": "speedup", "speed-ups": "speed-up", "times": "time", "latencies": "latency", "sizes": "size"}
# "improves state-of-the-art approaches by 5-30%": the phrase names what is outperformed, not a metric
BASELINE_WORDS = WordSet("state-of-the-art baseline baselines existing prior previous")
GENERIC_GAIN = "performance"  # the metric of "outperforms X by 32%" and of bare "gains of 2.4x"
# a count's noun phrase goes on through one of these: "11 tasks with hidden side effects"
COUNT_CONTINUATIONS = ("with", "of")
# also result verbs when searching a sentence, but nouns inside a metric phrase ("geomean speedup")
RESULT_VERB_PHRASES = ("speed up", "speeds up", "speedup")
# words that put a number in the problem or prior work
CONTEXT_CUES = (
    "existing",
    "prior",
    "previous",
    "current",
    "conventional",
    "traditional",
    "today's",
    "naive",
    "naively",
    "state-of-the-art systems",
    "state-of-the-art approaches",
    "state-of-the-art methods",
    "which is limited",
)
# "we discovered 12 previously unknown bugs": a count that is a result
# verbs of finding (not their nouns: "hallucination detection across 72 configurations" finds nothing)
FOUND = WordSet(
    """discover discovers discovered discovering uncover uncovers uncovered uncovering found find finds
    detect detects detected detecting identify identifies identified identifying fix fixes fixed fixing
    reveal reveals revealed revealing confirm confirms confirmed confirming"""
)
# what the paper made, counted: "generated 1003 test cases", "extracted 26 best practices", "19
# relations have been developed" (with FOUND, the counts of a paper's own outcome)
MADE = WordSet("generated extracted developed matched produced reported")  # past forms: "reports" is a noun
# the noun of finding: "the detection of 3 transiting planets"
FINDING_NOUNS = ("detection", "discovery", "identification", "isolation")
# the settings of a study's run, whose number is setup: "a time budget of 400 seconds", "95% confidence"
SETTING_NOUNS = ("budget", "timeout", "time limit", "deadline", "cutoff", "cut-off", "threshold")
# a sentence that turns to another's figure: "In comparison, the state-of-the-art TOGA achieved 8.2%"
COMPARISON_OPENERS = ("in comparison", "by comparison", "in contrast", "by contrast")
COUNT_RESULT_NEXT = ("save", "saves", "saving", "savings", "fewer", "more", "less", "reduction")  # "a 2,170 GPU save"
OWN_WORK = ("we", "our", "this", "it")  # the paper speaking of itself
# "While Aurora requires an average of 254 days ..., our ...": a number in a clause these open is
# another system's figure, unless the clause speaks of the paper's own work ("while keeping ..."
# is no such clause: the word after is an -ing verb)
CONCESSIVE = ("while", "whereas", "although", "though", "unlike")
# "compared to X", "than X", "over X": what a baseline follows
COMPARISONS = (
    "compared to",
    "compared with",
    "relative to",
    "in comparison to",
    "in comparison with",
    "than",
    "versus",
    "vs",
    "vs.",
    "over",
    "against",
)
LEADING_COMPARISONS = ("compared to", "compared with", "relative to", "against", "over")  # "Compared to X, ..."
BASELINE_ENDS = (
    "while",
    "under",
    "across",
    "on",
    "in",
    "at",
    "when",
    "with",
    "for",
    "by",
    "thus",
    "thereby",
    "which",
    "respectively",
)  # the baseline's phrase ends before these


# --- what other fields write ---------------------------------------------------------------------------
SYSTEMS_CATEGORIES = frozenset(
    {"cs.DC", "cs.OS", "cs.AR", "cs.NI", "cs.DB", "cs.PF", "cs.SE", "cs.PL", "cs.ET", "eess.SY", "cs.SY"}
)
# words whose count in an abstract says what its numbers measure: the quality of an output, or speed and size
QUALITY_WORDS = (
    "accuracy", "success rate", "f1", "auroc", "auc", "bleu", "rouge", "precision", "recall", "dice", "iou",
    "segmentation", "classification", "benchmark", "dataset", "robot", "manipulation", "reasoning",
)  # fmt: skip
SPEED_WORDS = (
    "latency", "throughput", "speedup", "speed-up", "gpu", "cluster", "kernel", "memory", "bandwidth", "cache",
    "server", "scheduling", "serving",
)  # fmt: skip
# a metric word that, outside systems, means how good the output is ("an average performance gain of 10%")
QUALITY_GENERIC = frozenset({"performance", "perf", "improvement", "improvements", "gain", "gains"})
# names of scores beside the taxonomy's accuracy and error words
SCORE_WORDS = frozenset(
    {"correlation", "agreement", "kappa", "index", "coefficient", "dsc", "mdice", "map", "similarity"}
)
