"""Flesch reading ease of the response, with a rule-based English syllable counter (no dictionary, no model)."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from functools import lru_cache

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import ascii_table, runs

_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END_RE = re.compile(r"[.!?]+(?=\s|$)")
_VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=65536)  # words repeat: a vocabulary-sized cache makes this a dict lookup
def syllables(word: str) -> int:
    """Vowel groups (a, e, i, o, u, y), minus a silent final "e" (but not "-le" as in "table"); at least 1."""
    word = word.lower().split("'")[0]
    count = len(_VOWEL_GROUP_RE.findall(word))
    if word.endswith("e") and not word.endswith("le") and count > 1:
        count -= 1
    return max(count, 1)


_LETTERS_TABLE = ascii_table(string.ascii_letters)
_NOTHING_RE = re.compile(r"(?!)")


def latin_words(text: str) -> list[str]:
    """``_WORD_RE.findall(text)``. A text without an apostrophe has no ``'``-joined words, and the pattern's words
    are then its ASCII-letter runs: split in C (``runs``) instead of a regex match per word."""
    if "'" in text:
        return _WORD_RE.findall(text)
    return runs(text, table=_LETTERS_TABLE, pattern=_WORD_RE, non_ascii_member=_NOTHING_RE)


def flesch_reading_ease(text: str) -> float | None:
    """206.835 - 1.015 * words/sentences - 84.6 * syllables/words; None when the text has no words.
    Sentences end at . ! or ? followed by space or the end; a text with no such mark is one sentence."""
    tokens = latin_words(text)
    if not tokens:
        return None
    sentences = max(len(_SENTENCE_END_RE.findall(text)), 1)
    n_syllables = sum(map(syllables, tokens))
    return 206.835 - 1.015 * (len(tokens) / sentences) - 84.6 * (n_syllables / len(tokens))


@register
class FleschReadingEase(Scorer):
    meta = ScorerMeta(
        name="flesch_reading_ease",
        axis="language",
        reads="A",
        raw_range=(0, 100),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="Flesch reading ease of the response (English; 100 = very easy, 0 = very hard; values outside "
        "are clipped when normalised). Syllables by a vowel-group rule. None when the response has no Latin words.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [flesch_reading_ease(s.response) for s in samples]
