"""Logical connectives in the response: a cheap proxy for explicit reasoning steps."""

from __future__ import annotations

import re
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import lowered, words

#: English discourse connectives that mark cause, consequence, contrast, condition or sequence.
CONNECTIVES = (
    "because",
    "therefore",
    "thus",
    "hence",
    "consequently",
    "as a result",
    "so that",
    "since",
    "however",
    "although",
    "nevertheless",
    "nonetheless",
    "whereas",
    "on the other hand",
    "in contrast",
    "moreover",
    "furthermore",
    "in addition",
    "additionally",
    "if",
    "then",
    "otherwise",
    "unless",
    "provided that",
    "first",
    "second",
    "third",
    "finally",
    "next",
    "lastly",
    "for example",
    "for instance",
    "in other words",
    "that is",
    "it follows that",
    "which means",
)
_CONNECTIVE_RE = re.compile(
    r"\b(?:"
    + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in sorted(CONNECTIVES, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)


#: Characters that IGNORECASE matches to ASCII letters although they are not ASCII (dotted/dotless i, long s,
#: Kelvin sign), or whose lowercase changes a text's word runs (dotted capital I lowercases to two characters).
#: A text holding one is counted with ``_CONNECTIVE_RE`` itself; every other text takes the fast path below.
_FOLD_TRAPS_RE = re.compile("[\u0130\u0131\u017f\u212a]")
_SINGLE_WORD = frozenset(c for c in CONNECTIVES if " " not in c)
_MULTI_WORD: dict[str, list[str]] = {}
for _phrase in sorted((c for c in CONNECTIVES if " " in c), key=len, reverse=True):
    _first, _rest = _phrase.split(" ", 1)
    _MULTI_WORD.setdefault(_first, []).append(_rest)
if _SINGLE_WORD & {word for c in CONNECTIVES if " " in c for word in c.split()}:
    raise ImportError("connectives: a single-word connective is also a word of a multi-word one; "
                      "count_connectives' fast path assumes they never compete")
#: the multi-word connectives on lowercased text, without the leading \b so that re can skip ahead to the
#: candidates' first letters; the leading word boundary is checked on each candidate
_MULTI_WORD_RE = re.compile(
    "(?:"
    + "|".join(
        re.escape(first) + r"\s+(?:" + "|".join(re.escape(r).replace(r"\ ", r"\s+") for r in rests) + ")"
        for first, rests in _MULTI_WORD.items()
    )
    + r")\b"
)
_WORD_CHAR_RE = re.compile(r"\w")


def count_connectives(text: str) -> int:
    """``len(_CONNECTIVE_RE.findall(text))``, computed faster.

    No single-word connective is a word of a multi-word one, and no multi-word connective starts with a
    single-word one, so the single words never compete with the phrases for the same text: they are the lowercased
    word tokens that are connectives (``words``, shared with the lexical scorers), and the phrases are found with a
    smaller expression on the lowercased text, non-overlapping and leftmost-first as ``findall`` finds them.
    """
    if _FOLD_TRAPS_RE.search(text):
        return len(_CONNECTIVE_RE.findall(text))
    count = sum(map(_SINGLE_WORD.__contains__, words(text)))
    low = lowered(text)
    search, word_char = _MULTI_WORD_RE.search, _WORD_CHAR_RE.match
    pos = 0
    while match := search(low, pos):
        start = match.start()
        if start and word_char(low, start - 1):  # no word boundary before it: try from the next character
            pos = start + 1
            continue
        count += 1
        pos = match.end()
    return count


@register
class LogicalConnectives(Scorer):
    meta = ScorerMeta(
        name="logical_connectives",
        axis="reasoning",
        reads="A",
        raw_range=(0, 50),
        transform="log",
        higher_is_better=True,
        needs_model=False,
        version="1",
        unit="count",
        description="Number of English logical connectives (because, therefore, however, if, first, "
        "for example, ...) in the response, whole words, case-insensitive; multi-word ones count once.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [float(count_connectives(s.response)) for s in samples]
