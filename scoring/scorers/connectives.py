"""Logical connectives in the response: a cheap proxy for explicit reasoning steps."""

from __future__ import annotations

import re
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register

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


def count_connectives(text: str) -> int:
    return len(_CONNECTIVE_RE.findall(text))


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
