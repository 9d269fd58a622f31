"""Lexical diversity of the response: MTLD and HD-D (McCarthy & Jarvis 2007, 2010).

Both read lowercased ``\\w+`` word tokens of the response.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import count_spectrum, words


def mtld_one_pass(tokens: Sequence[str], threshold: float) -> float:
    """Tokens per factor in one direction. A factor ends when the running TTR falls below ``threshold``;
    the remainder counts as the partial factor (1 - TTR) / (1 - threshold)."""
    factors = 0.0
    types: set[str] = set()
    add = types.add
    count = 0
    for token in tokens:
        count += 1
        add(token)
        if len(types) / count < threshold:
            factors += 1.0
            types.clear()
            count = 0
    if count:
        factors += (1.0 - len(types) / count) / (1.0 - threshold)
    if factors == 0.0:
        # Every token distinct: MTLD is unbounded. The token count is its lower bound (a factor could
        # at the earliest complete at the end of the text), so that is what is reported.
        return float(len(tokens))
    return len(tokens) / factors


def mtld(tokens: Sequence[str], threshold: float = 0.72) -> float:
    """Mean of the forward and backward passes (the bidirectional MTLD of McCarthy & Jarvis 2010)."""
    return (mtld_one_pass(tokens, threshold) + mtld_one_pass(tokens[::-1], threshold)) / 2.0


def hdd(tokens: Sequence[str], sample_size: int = 42) -> float:
    """Expected type-token ratio of a random ``sample_size``-token draw without replacement (hypergeometric).

    For texts shorter than ``sample_size`` the draw is the whole text, so HD-D equals the plain TTR.
    """
    counts = tuple(Counter(tokens).values())
    return hdd_from_counts(counts=counts, spectrum=Counter(counts), n=len(tokens), sample_size=sample_size)


def hdd_from_counts(*, counts: Sequence[int], spectrum: dict[int, int], n: int, sample_size: int = 42) -> float:
    """HD-D from the word types' counts (``spectrum``: how many types have each count; ``n``: tokens).

    A type's chance to be absent from the draw depends only on its count, so it is computed once per distinct
    count; the per-type terms are still added one by one in the counts' order."""
    s = min(sample_size, n)
    log_denominator = math.lgamma(n + 1) - math.lgamma(n - s + 1)
    present: dict[int, float] = {}
    for count in spectrum:
        rest = n - count
        if rest < s:
            p_absent = 0.0
        else:  # C(rest, s) / C(n, s)
            p_absent = math.exp(math.lgamma(rest + 1) - math.lgamma(rest - s + 1) - log_denominator)
        present[count] = 1.0 - p_absent
    return (0.0 + sum(map(present.__getitem__, counts))) / s


@register
class MTLD(Scorer):
    meta = ScorerMeta(
        name="mtld",
        axis="diversity",
        reads="A",
        raw_range=(0, 200),
        higher_is_better=True,
        needs_model=False,
        version="1",
        unit="tokens per factor",
        description="Measure of Textual Lexical Diversity of the response (bidirectional, TTR threshold 0.72). "
        "None for an empty response; a response with no repeated word reports its token count (MTLD's lower bound).",
    )
    default_config = {"threshold": 0.72}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        threshold = self.config["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
            from arena.errors import InvalidInput

            raise InvalidInput(
                f"scorer 'mtld': option 'threshold' must be a number strictly between 0 and 1, got {threshold!r}"
            )
        self.threshold = float(threshold)

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            tokens = words(sample.response)
            out.append(mtld(tokens, self.threshold) if tokens else None)
        return out


@register
class HDD(Scorer):
    meta = ScorerMeta(
        name="hdd",
        axis="diversity",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="HD-D of the response: expected type-token ratio of a random 42-token sample "
        "(plain TTR for shorter responses). None for an empty response.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            counts, spectrum = count_spectrum(sample.response)
            out.append(hdd_from_counts(counts=counts, spectrum=spectrum, n=sum(counts)) if counts else None)
        return out
