"""Character-level statistics of the response: alphanumeric share, special-character share, character repetition.

The counterparts of data-juicer's / BLOOM's ``alphanumeric``, ``special_characters`` and ``character_repetition``
filters, as scores with a declared range. Characters are Unicode code points; "alphanumeric" is ``str.isalnum``
and "whitespace" is ``str.isspace``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import check_int_option

_ALNUM_RUN_RE = re.compile(r"[^\W_]+")  # re's \w is str.isalnum() or "_"
_SPACE_RUN_RE = re.compile(r"\s+")  # re's \s is str.isspace()
_ASCII_ALNUM = bytes(c for c in range(128) if chr(c).isalnum())
_ASCII_SPACE = bytes(c for c in range(128) if chr(c).isspace())


def alnum_and_space_counts(text: str) -> tuple[int, int]:
    """(alphanumeric characters, whitespace characters) of the text."""
    if text.isascii():  # count on the bytes, in C
        data = text.encode("ascii")
        return len(data) - len(data.translate(None, _ASCII_ALNUM)), len(data) - len(data.translate(None, _ASCII_SPACE))
    return sum(map(len, _ALNUM_RUN_RE.findall(text))), sum(map(len, _SPACE_RUN_RE.findall(text)))


def char_repetition_ratio(text: str, n: int) -> float | None:
    """Share of the text's character n-gram occurrences taken by its most frequent repeated n-grams: the top
    floor(sqrt(distinct n-grams)) frequencies, counting only n-grams that occur more than once (BLOOM's
    character-repetition statistic). None when the text is shorter than n characters."""
    total = len(text) - n + 1
    if total < 1:
        return None
    frequencies = _ngram_frequencies_numpy(text, n) if total > 64 else None
    if frequencies is None:
        frequencies = Counter(text[i : i + n] for i in range(total)).values()
    frequencies = sorted(frequencies, reverse=True)
    repeated = len(frequencies) - frequencies.count(1)
    top = min(math.isqrt(len(frequencies)), repeated)
    return sum(frequencies[:top]) / total


def _ngram_frequencies_numpy(text: str, n: int) -> list[int] | None:
    """How often each distinct character n-gram occurs (in no particular order), or None when the text's
    alphabet is too large for this exact method.

    Each character becomes its rank in the text's alphabet of k characters, and each n-gram the n-digit base-k
    number of its ranks: distinct n-grams are distinct numbers as long as k**n < 2**64, so one sort of
    uint64 keys counts them exactly, without a Python string per n-gram."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    alphabet, ranks = np.unique(codes, return_inverse=True)
    if len(alphabet) ** n >= 2**64:
        return None
    total = len(codes) - n + 1
    ranks = ranks.astype(np.uint64)
    base = np.uint64(len(alphabet))
    keys = ranks[:total].copy()
    for j in range(1, n):
        keys *= base
        keys += ranks[j : j + total]
    keys.sort()
    starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.diff(np.concatenate(([0], starts, [total]))).tolist()


@register
class AlnumRatio(Scorer):
    meta = ScorerMeta(
        name="alnum_ratio",
        axis="quality",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="Share of the response's characters that are letters or digits (any script). Low = markup, "
        "symbols or whitespace soup. None when the response is empty.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [alnum_and_space_counts(s.response)[0] / len(s.response) if s.response else None for s in samples]


@register
class SpecialCharRatio(Scorer):
    meta = ScorerMeta(
        name="special_char_ratio",
        axis="quality",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=False,
        needs_model=False,
        version="1",
        description="Share of the response's characters that are neither letters, digits nor whitespace "
        "(punctuation, symbols, emoji, underscores). None when the response is empty.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            text = sample.response
            if not text:
                out.append(None)
                continue
            alnum, space = alnum_and_space_counts(text)
            out.append((len(text) - alnum - space) / len(text))
        return out


@register
class CharRepetition(Scorer):
    meta = ScorerMeta(
        name="char_repetition",
        axis="quality",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=False,
        needs_model=False,
        version="1",
        description="Character n-gram repetition of the response (option n, default 10): the share of its "
        "n-gram occurrences taken by the floor(sqrt(distinct n-grams)) most frequent n-grams that occur more than "
        "once (BLOOM / data-juicer character_repetition). 0 when nothing repeats; None under n characters.",
    )
    default_config = {"n": 10}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        self.n = check_int_option(scorer=self.meta.name, option="n", value=self.config["n"], low=1, high=64)

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [char_repetition_ratio(s.response, self.n) for s in samples]
