"""Shannon entropy of the response's word distribution."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import ngram_count_values


def counts_entropy_bits(counts: Counter) -> float:
    return values_entropy_bits(counts.values())


def values_entropy_bits(values: Collection[int]) -> float:
    """-sum(p log2 p) over the counts. Texts repeat counts (most words occur once or twice), so the term of each
    distinct count is computed once; the terms are still added one per type, in the counts' order."""
    total = sum(values)
    term = {c: (c / total) * math.log2(c / total) for c in set(values)}
    return -sum(map(term.__getitem__, values))


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
            counts = ngram_count_values(sample.response, 1)
            out.append(values_entropy_bits(counts) if counts else None)
        return out

