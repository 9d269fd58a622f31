"""zlib compression ratio of the response: repetitive text compresses well."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register


def zlib_ratio(text: str) -> float | None:
    data = text.encode("utf-8")
    if not data:
        return None
    return len(zlib.compress(data, 9)) / len(data)


@register
class ZlibRatio(Scorer):
    meta = ScorerMeta(
        name="zlib_ratio",
        axis="quality",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="len(zlib.compress(response, level 9)) / len(response) in UTF-8 bytes. Low = redundant, "
        "repetitive text. Very short responses exceed 1 (zlib header) and normalise to 1. None when empty.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [zlib_ratio(s.response) for s in samples]
