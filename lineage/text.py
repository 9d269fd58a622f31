"""Text normalisation shared by overlap (MinHash) and contamination (n-gram) detection."""
from __future__ import annotations

import re

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lowercase; punctuation, underscores and runs of whitespace become one space."""
    return _NON_WORD.sub(" ", (text or "").lower()).strip()


def words(text: str) -> list[str]:
    normalised = normalise(text)
    return normalised.split(" ") if normalised else []


def sample_text(instruction: str | None, response: str | None) -> str:
    """The text of a sample that overlap and contamination compare: instruction (Q) then response (A)."""
    return f"{instruction or ''}\n{response or ''}"


def word_ngrams(tokens: list[str], n: int) -> list[str]:
    """Word n-grams joined by spaces; a text shorter than ``n`` words is one n-gram (the whole text)."""
    if not tokens:
        return []
    if len(tokens) <= n:
        return [" ".join(tokens)]
    return [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
