"""Word n-gram scorers of the response: distinct n-gram ratio, top n-gram share (repetition), n-gram entropy."""

from __future__ import annotations

from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.scorers.entropy import values_entropy_bits
from scoring.text_features import check_int_option, ngram_count_values


class _NgramScorer(Scorer):
    default_config = {"n": 2}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        self.n = check_int_option(scorer=self.meta.name, option="n", value=self.config["n"], low=1, high=8)

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            counts = ngram_count_values(sample.response, self.n)  # each distinct n-gram's count
            total = sum(counts)
            out.append(self.from_counts(counts, total) if total else None)
        return out

    def from_counts(self, counts: tuple[int, ...], total: int) -> float:
        raise NotImplementedError


@register
class UniqueNgramRatio(_NgramScorer):
    meta = ScorerMeta(
        name="unique_ngram_ratio",
        axis="diversity",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="Distinct word n-grams / all word n-grams of the response (option n, default 2). "
        "None when the response has fewer than n words.",
    )

    def from_counts(self, counts, total: int) -> float:
        return len(counts) / total


@register
class Repetition(_NgramScorer):
    meta = ScorerMeta(
        name="repetition",
        axis="quality",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=False,
        needs_model=False,
        version="1",
        description="Share of the response's word n-gram occurrences taken by its most frequent n-gram "
        "(option n, default 2), 0 when no n-gram repeats (Gopher-style repetition filter). "
        "None when the response has fewer than n words.",
    )

    def from_counts(self, counts, total: int) -> float:
        top = max(counts)
        return top / total if top > 1 else 0.0


@register
class NgramEntropy(_NgramScorer):
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

    def from_counts(self, counts, total: int) -> float:
        return values_entropy_bits(counts)
