"""VOCD-D lexical diversity of the response (Malvern, Richards, Chipere & Duran, 2004; McCarthy & Jarvis, 2007).

vocd fits the type-token curve TTR(N) = (D / N) * (sqrt(1 + 2N / D) - 1) to the mean TTR of random N-token draws
for N = 35..50 and reports D. The original estimates each mean TTR from 100 random draws (so D varies from run to
run); here the mean TTR of an N-token draw without replacement is computed exactly (the hypergeometric expectation,
as HD-D does), so the same text always gets the same D. D is the least-squares fit over N = 35..50, searched in
[MIN_D, MAX_D]; a text with no repeated word reaches MAX_D. Needs at least 50 word tokens (None otherwise).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.scorers.lexical_diversity import hdd_from_counts
from scoring.text_features import count_spectrum

SIZES = range(35, 51)
MIN_D, MAX_D = 0.01, 1000.0


def vocd_curve(*, size: int, d: float) -> float:
    """The TTR that the vocd model predicts for an N-token sample of a text with diversity D."""
    return (d / size) * (math.sqrt(1.0 + 2.0 * size / d) - 1.0)


def vocd_d(tokens: Sequence[str]) -> float | None:
    counts = tuple(Counter(tokens).values())
    return vocd_d_from_counts(counts=counts, spectrum=Counter(counts))


def vocd_d_from_counts(*, counts: Sequence[int], spectrum: dict[int, int]) -> float | None:
    n = sum(counts)
    if n < max(SIZES):
        return None
    observed = [(size, hdd_from_counts(counts=counts, spectrum=spectrum, n=n, sample_size=size)) for size in SIZES]
    sqrt = math.sqrt

    def loss(d: float) -> float:  # vocd_curve inlined: the same arithmetic, in the same order
        return sum((ttr - (d / size) * (sqrt(1.0 + 2.0 * size / d) - 1.0)) ** 2 for size, ttr in observed)

    return bounded_minimum(loss, low=MIN_D, high=MAX_D, xatol=1e-6)


_SQRT_EPS = math.sqrt(2.2e-16)
_GOLDEN_MEAN = 0.5 * (3.0 - math.sqrt(5.0))


def bounded_minimum(func: Callable[[float], float], *, low: float, high: float, xatol: float, maxiter: int = 500) -> float:
    """Brent's bounded scalar minimisation, step for step as ``scipy.optimize.minimize_scalar(method="bounded")``
    (scipy's ``_minimize_scalar_bounded``, BSD-3-Clause; scipy 1.17), in plain floats: scipy's version spends most
    of its time making numpy scalars of ``np.abs``/``np.sign`` on Python floats. Same iterates, same result."""
    a, b = low, high
    fulc = a + _GOLDEN_MEAN * (b - a)
    nfc = xf = fulc
    rat = e = 0.0
    fx = func(xf)
    num = 1
    ffulc = fnfc = fx
    xm = 0.5 * (a + b)
    tol1 = _SQRT_EPS * abs(xf) + xatol / 3.0
    tol2 = 2.0 * tol1
    while abs(xf - xm) > (tol2 - 0.5 * (b - a)):
        golden = True
        if abs(e) > tol1:  # parabolic fit
            golden = False
            r = (xf - nfc) * (fx - ffulc)
            q = (xf - fulc) * (fx - fnfc)
            p = (xf - fulc) * q - (xf - nfc) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = abs(q)
            r = e
            e = rat
            if abs(p) < abs(0.5 * q * r) and p > q * (a - xf) and p < q * (b - xf):
                rat = (p + 0.0) / q
                x = xf + rat
                if (x - a) < tol2 or (b - x) < tol2:
                    rat = tol1 * (_sign(xm - xf) + (xm - xf == 0))
            else:
                golden = True
        if golden:
            e = (a - xf) if xf >= xm else (b - xf)
            rat = _GOLDEN_MEAN * e
        x = xf + (_sign(rat) + (rat == 0)) * max(abs(rat), tol1)
        fu = func(x)
        num += 1
        if fu <= fx:
            if x >= xf:
                a = xf
            else:
                b = xf
            fulc, ffulc = nfc, fnfc
            nfc, fnfc = xf, fx
            xf, fx = x, fu
        else:
            if x < xf:
                a = x
            else:
                b = x
            if fu <= fnfc or nfc == xf:
                fulc, ffulc = nfc, fnfc
                nfc, fnfc = x, fu
            elif fu <= ffulc or fulc == xf or fulc == nfc:
                fulc, ffulc = x, fu
        xm = 0.5 * (a + b)
        tol1 = _SQRT_EPS * abs(xf) + xatol / 3.0
        tol2 = 2.0 * tol1
        if num >= maxiter:
            break
    return float(xf)


def _sign(value: float) -> float:
    return 1.0 if value > 0 else (-1.0 if value < 0 else 0.0)


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
        out: list[float | None] = []
        for sample in samples:
            counts, spectrum = count_spectrum(sample.response)
            out.append(vocd_d_from_counts(counts=counts, spectrum=spectrum))
        return out
