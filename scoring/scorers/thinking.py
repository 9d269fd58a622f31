"""Think-tag scorers: does the response carry an explicit reasoning trace, and is it only that?"""

from __future__ import annotations

from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import has_thinking, strip_thinking


@register
class ThinkTag(Scorer):
    meta = ScorerMeta(
        name="think_tag",
        axis="reasoning",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="1 when the response contains a <think>...</think> (or <thinking>) block, else 0.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [1.0 if has_thinking(s.response) else 0.0 for s in samples]


@register
class PureThinking(Scorer):
    meta = ScorerMeta(
        name="pure_thinking",
        axis="reasoning",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=False,
        needs_model=False,
        version="1",
        description="1 when the response is only thinking (a think block and no answer text outside it), "
        "else 0; an unclosed <think> runs to the end of the response.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [1.0 if has_thinking(s.response) and not strip_thinking(s.response).strip() else 0.0 for s in samples]
