"""VOCD-D lexical diversity of the response (Malvern, Richards, Chipere & Duran, 2004; McCarthy & Jarvis, 2007).

vocd fits the type-token curve TTR(N) = (D / N) * (sqrt(1 + 2N / D) - 1) to the mean TTR of random N-token draws
for N = 35..50 and reports D. The original estimates each mean TTR from 100 random draws (so D varies from run to
run); here the mean TTR of an N-token draw without replacement is computed exactly (the hypergeometric expectation,
as HD-D does), so the same text always gets the same D. D is the least-squares fit over N = 35..50, searched in
[MIN_D, MAX_D]; a text with no repeated word reaches MAX_D. Needs at least 50 word tokens (None otherwise).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.optimize import minimize_scalar

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.scorers.lexical_diversity import hdd
from scoring.text_features import words

SIZES = range(35, 51)
MIN_D, MAX_D = 0.01, 1000.0


def vocd_curve(*, size: int, d: float) -> float:
    """The TTR that the vocd model predicts for an N-token sample of a text with diversity D."""
    return (d / size) * (math.sqrt(1.0 + 2.0 * size / d) - 1.0)


def vocd_d(tokens: Sequence[str]) -> float | None:
    if len(tokens) < max(SIZES):
        return None
    observed = [(size, hdd(tokens, sample_size=size)) for size in SIZES]

    def loss(d: float) -> float:
        return sum((ttr - vocd_curve(size=size, d=d)) ** 2 for size, ttr in observed)

    fit = minimize_scalar(loss, bounds=(MIN_D, MAX_D), method="bounded", options={"xatol": 1e-6})
    return float(fit.x)


@register
class VocdD(Scorer):
    meta = ScorerMeta(
        name="vocd_d",
        axis="diversity",
        reads="A",
        raw_range=(0.0, 150.0),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="VOCD-D of the response: D of the vocd type-token model fitted to the exact mean TTR of 35- to "
        "50-word draws (typically 20-120; higher = richer vocabulary). None under 50 words.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [vocd_d(words(sample.response)) for sample in samples]
