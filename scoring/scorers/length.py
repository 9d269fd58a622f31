"""Length scorers: instruction tokens, response tokens, characters of Q+A.

Longer responses correlate with preference in chat evaluations and longer
instructions with harder tasks, so "higher is better" is declared for all
three, clipped at a log-scaled ceiling; treat them as descriptive axes.
"""

from __future__ import annotations

from collections.abc import Sequence

from arena.ingest.schema import count_tokens
from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register


@register
class InstructionTokens(Scorer):
    meta = ScorerMeta(
        name="instruction_tokens",
        axis="length",
        reads="Q",
        raw_range=(0, 4096),
        transform="log",
        higher_is_better=True,
        needs_model=False,
        version="1",
        unit="tokens",
        description="Word-and-punctuation token count of the instruction (same tokenizer as the registry statistics).",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [float(count_tokens(s.instruction)) for s in samples]


@register
class ResponseTokens(Scorer):
    meta = ScorerMeta(
        name="response_tokens",
        axis="length",
        reads="A",
        raw_range=(0, 4096),
        transform="log",
        higher_is_better=True,
        needs_model=False,
        version="1",
        unit="tokens",
        description="Word-and-punctuation token count of the response (same tokenizer as the registry statistics).",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [float(count_tokens(s.response)) for s in samples]


@register
class CharLength(Scorer):
    meta = ScorerMeta(
        name="char_length",
        axis="length",
        reads="QA",
        raw_range=(0, 32768),
        transform="log",
        higher_is_better=True,
        needs_model=False,
        version="1",
        unit="characters",
        description="Number of characters (Unicode code points) in instruction plus response.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [float(len(s.instruction) + len(s.response)) for s in samples]
