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


@lru_cache(maxsize=2048)
def words(text: str) -> tuple[str, ...]:
    """Lowercased word tokens (``\\w+`` runs). Cached for the last 2048 texts: the engine runs scorer after
    scorer over the same batch (at most ``ARENA_SCORING_BATCH_ROWS`` samples), so several lexical scorers
    share one tokenisation per sample."""
    return tuple(_WORD_RE.findall(text.lower()))


def ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    return Counter(zip(*(tokens[i:] for i in range(n)))) if n > 1 else Counter((t,) for t in tokens)


def strip_thinking(text: str) -> str:
    """The text without its ``<think>...</think>`` (or ``<thinking>``) blocks; an unclosed block runs to the end."""
    return _THINK_RE.sub("", text)


def has_thinking(text: str) -> bool:
    return _THINK_RE.search(text) is not None


def check_int_option(*, scorer: str, option: str, value, low: int, high: int) -> int:
    """Validate an integer config option; raises InvalidInput naming the scorer and option."""
    from arena.errors import InvalidInput

    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"scorer {scorer!r}: option {option!r} must be an integer from {low} to {high}, got {value!r}"
        )
    return value
