"""Shannon entropy of the response's word distribution."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import words


def counts_entropy_bits(counts: Counter) -> float:
    total = sum(counts.values())
    return -sum((c / total) * math.log2(c / total) for c in counts.values())


def shannon_entropy_bits(tokens: Sequence[str]) -> float:
    return counts_entropy_bits(Counter(tokens))


@register
class TokenEntropy(Scorer):
    meta = ScorerMeta(
        name="token_entropy",
        axis="diversity",
        reads="A",
        raw_range=(0, 12),
        higher_is_better=True,
        needs_model=False,
        version="1",
        unit="bits",
        description="Shannon entropy (bits) of the lowercased word distribution of the response; "
        "12 bits = 4096 equally frequent words. None for an empty response.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            tokens = words(sample.response)
            out.append(shannon_entropy_bits(tokens) if tokens else None)
        return out

