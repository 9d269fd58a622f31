"""Shannon entropy of the response's word and word n-gram distributions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import check_int_option, ngram_counts, words


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


@register
class NgramEntropy(Scorer):
    meta = ScorerMeta(
        name="ngram_entropy",
        axis="diversity",
        reads="A",
        raw_range=(0, 12),
        higher_is_better=True,
        needs_model=False,
        version="1",
        unit="bits",
        description="Shannon entropy (bits) of the distribution of the response's word n-grams (option n, default 2; "
        "n=1 equals token_entropy). None when the response has fewer than n words.",
    )
    default_config = {"n": 2}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        self.n = check_int_option(scorer=self.meta.name, option="n", value=self.config["n"], low=1, high=8)

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            counts = ngram_counts(words(sample.response), self.n)
            out.append(counts_entropy_bits(counts) if counts else None)
        return out
