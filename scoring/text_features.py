"""Small, model-free text helpers shared by the heuristic scorers.

Everything here is plain Python/regex so a scorer stays fast and holds no
per-sample heavy object. Two tokenisations are used on purpose:

* ``words(text)``: lowercased ``\\w+`` runs -- what lexical measures (MTLD, HD-D,
  entropy, n-grams) count;
* ``arena.ingest.schema.count_tokens``: words and punctuation marks -- the
  registry's model-free token count, reused by the length scorers so the
  two agree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_THINK_RE = re.compile(r"<(think|thinking)>(.*?)(?:</\1>|$)", re.IGNORECASE | re.DOTALL)


#: Per-text results below are cached for the last 2048 texts: the engine runs scorer after scorer over the same
#: batch (at most ``ARENA_SCORING_BATCH_ROWS`` samples), so the scorers that read the same text share one
#: lowercasing, one tokenisation and one count of each kind per sample. (A str caches its own hash, so a cache
#: hit on a long text costs one dict lookup.)
_CACHE = 2048


@lru_cache(maxsize=_CACHE)
def lowered(text: str) -> str:
    return text.lower()


@lru_cache(maxsize=_CACHE)
def words(text: str) -> tuple[str, ...]:
    """Lowercased word tokens (``\\w+`` runs of the lowercased text)."""
    return tuple(runs(lowered(text), table=_ASCII_WORD_TABLE, pattern=_WORD_RE, non_ascii_member=_NON_ASCII_WORD_RE))


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")
_NON_ASCII_WORD_RE = re.compile(r"[^\W\x00-\x7f]")
#: ASCII bytes: word characters kept, every other byte a space
_ASCII_WORD_TABLE = bytes(c if chr(c).isalnum() or c == 0x5F else 0x20 for c in range(256))


def ascii_table(keep: str) -> bytes:
    """A ``bytes.translate`` table that keeps the ASCII characters in ``keep`` and turns every other byte into a space."""
    return bytes(c if chr(c) in keep else 0x20 for c in range(256))


def runs(text: str, *, table: bytes, pattern: re.Pattern, non_ascii_member: re.Pattern) -> list[str]:
    """``pattern.findall(text)`` for a pattern of the form ``[class]+``, where ``table`` keeps the class's ASCII
    members (never whitespace) and ``non_ascii_member`` finds a non-ASCII member of the class.

    A text with no non-ASCII member is split in C: its non-ASCII characters are separators like any other
    non-member, so they become spaces, and the ASCII bytes are translated (members kept, the rest spaces) and split
    on spaces; ``findall`` builds a match object per run, this path does not. Other texts use ``findall``."""
    if not text.isascii():
        if non_ascii_member.search(text):
            return pattern.findall(text)
        text = _NON_ASCII_RE.sub(" ", text)
    return text.encode("ascii").translate(table).decode("ascii").split()  # members are never whitespace


@lru_cache(maxsize=_CACHE)
def ngram_count_values(text: str, n: int) -> tuple[int, ...]:
    """``tuple(ngram_counts(words(text), n).values())``: how often each distinct word n-gram occurs, in order of
    first occurrence. Shared by the n-gram scorers (and n=1 by the word-distribution ones), which need only these
    numbers; the n-gram tuples themselves are freed at once rather than kept alive in the cache (tens of thousands
    of tuples per batch that the garbage collector would otherwise walk again and again)."""
    return tuple(ngram_counts(words(text), n).values())


@lru_cache(maxsize=_CACHE)
def count_spectrum(text: str) -> tuple[tuple[int, ...], dict[int, int]]:
    """Word counts of the text (in first-occurrence order) and how many word types occur each number of times."""
    counts = ngram_count_values(text, 1)
    return counts, Counter(counts)


def ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    return Counter(zip(*(tokens[i:] for i in range(n))))  # n=1: zip(tokens) gives the 1-tuples


def strip_thinking(text: str) -> str:
    """The text without its ``<think>...</think>`` (or ``<thinking>``) blocks; an unclosed block runs to the end."""
    return _THINK_RE.sub("", text) if "<" in text else text


def has_thinking(text: str) -> bool:
    return "<" in text and _THINK_RE.search(text) is not None  # most texts have no "<" at all: one memchr


def check_int_option(*, scorer: str, option: str, value, low: int, high: int) -> int:
    """Validate an integer config option; raises InvalidInput naming the scorer and option."""
    from arena.errors import InvalidInput

    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"scorer {scorer!r}: option {option!r} must be an integer from {low} to {high}, got {value!r}"
        )
    return value
