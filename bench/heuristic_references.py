"""Plain-Python reference implementations of the heuristic scorers' statistics, for ``bench/comparisons/heuristics.py``.

Straightforward code, the way one would write each statistic for one text without Arena: each function tokenises
its own text (no shared caches), loops in Python where the definition loops, and uses the standard library (and
scipy for vocd's one-dimensional fit, as the statistic's usual implementations do). They return the same values as
the Arena scorers (the comparison checks that on every sample), so the two do the same work.
"""
from __future__ import annotations

import ast
import math
import re
import warnings
import zlib
from collections import Counter

WORD = re.compile(r"\w+")
TOKEN = re.compile(r"\w+|[^\w\s]")
THINK = re.compile(r"<(think|thinking)>(.*?)(?:</\1>|$)", re.IGNORECASE | re.DOTALL)


def tokens_of(text: str) -> list[str]:
    return WORD.findall(text.lower())


def instruction_tokens(q: str, a: str) -> float:
    return float(len(TOKEN.findall(q)))


def response_tokens(q: str, a: str) -> float:
    return float(len(TOKEN.findall(a)))


def char_length(q: str, a: str) -> float:
    return float(len(q) + len(a))


def _mtld_pass(tokens: list[str], threshold: float) -> float:
    factors, types, count = 0.0, set(), 0
    for token in tokens:
        count += 1
        types.add(token)
        if len(types) / count < threshold:
            factors += 1.0
            types, count = set(), 0
    if count:
        factors += (1.0 - len(types) / count) / (1.0 - threshold)
    return float(len(tokens)) if factors == 0.0 else len(tokens) / factors


def mtld(q: str, a: str) -> float | None:
    tokens = tokens_of(a)
    if not tokens:
        return None
    return (_mtld_pass(tokens, 0.72) + _mtld_pass(tokens[::-1], 0.72)) / 2.0


def _hdd(tokens: list[str], sample_size: int) -> float:
    n = len(tokens)
    s = min(sample_size, n)
    total = 0.0
    log_denominator = math.lgamma(n + 1) - math.lgamma(n - s + 1)
    for count in Counter(tokens).values():
        rest = n - count
        p_absent = 0.0 if rest < s else math.exp(math.lgamma(rest + 1) - math.lgamma(rest - s + 1) - log_denominator)
        total += 1.0 - p_absent
    return total / s


def hdd(q: str, a: str) -> float | None:
    tokens = tokens_of(a)
    return _hdd(tokens, 42) if tokens else None


def _bigrams(a: str) -> Counter:
    tokens = tokens_of(a)
    return Counter(zip(tokens, tokens[1:]))


def unique_ngram_ratio(q: str, a: str) -> float | None:
    counts = _bigrams(a)
    total = sum(counts.values())
    return len(counts) / total if total else None


def repetition(q: str, a: str) -> float | None:
    counts = _bigrams(a)
    total = sum(counts.values())
    if not total:
        return None
    top = max(counts.values())
    return top / total if top > 1 else 0.0


def _entropy(counts: Counter) -> float:
    total = sum(counts.values())
    return -sum((c / total) * math.log2(c / total) for c in counts.values())


def ngram_entropy(q: str, a: str) -> float | None:
    counts = _bigrams(a)
    return _entropy(counts) if counts else None


def token_entropy(q: str, a: str) -> float | None:
    tokens = tokens_of(a)
    return _entropy(Counter(tokens)) if tokens else None


def zlib_ratio(q: str, a: str) -> float | None:
    data = a.encode("utf-8")
    return len(zlib.compress(data, 9)) / len(data) if data else None


_CONNECTIVES = (
    "because therefore thus hence consequently since however although nevertheless nonetheless whereas moreover "
    "furthermore additionally if then otherwise unless first second third finally next lastly"
).split() + [
    "as a result", "so that", "on the other hand", "in contrast", "in addition", "provided that", "for example",
    "for instance", "in other words", "that is", "it follows that", "which means",
]
CONNECTIVE = re.compile(
    r"\b(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in sorted(_CONNECTIVES, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def logical_connectives(q: str, a: str) -> float:
    return float(len(CONNECTIVE.findall(a)))


def think_tag(q: str, a: str) -> float:
    return 1.0 if THINK.search(a) else 0.0


def pure_thinking(q: str, a: str) -> float:
    return 1.0 if THINK.search(a) and not THINK.sub("", a).strip() else 0.0


FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
PYTHONISH = re.compile(r"^\s*(def |class |import |from \S+ import |print\(|return |if __name__)", re.MULTILINE)


def python_syntax(q: str, a: str) -> float | None:
    blocks = [
        m.group(3)
        for m in FENCE.finditer(a)
        if m.group(2).lower() in {"python", "py", "python3", "py3"} or (not m.group(2) and PYTHONISH.search(m.group(3)))
    ]
    if not blocks:
        return None
    ok = 0
    for block in blocks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)
                ast.parse(block)
            ok += 1
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    return ok / len(blocks)


SCRIPTS = {
    "latin": re.compile(r"[A-Za-z\u00C0-\u024F]"), "cyrillic": re.compile(r"[\u0400-\u04FF]"),
    "greek": re.compile(r"[\u0370-\u03FF]"), "arabic": re.compile(r"[\u0600-\u06FF\u0750-\u077F]"),
    "hebrew": re.compile(r"[\u0590-\u05FF]"), "devanagari": re.compile(r"[\u0900-\u097F]"),
    "thai": re.compile(r"[\u0E00-\u0E7F]"), "han": re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF]"),
    "kana": re.compile(r"[\u3040-\u30FF]"), "hangul": re.compile(r"[\u1100-\u11FF\uAC00-\uD7AF]"),
}
SCRIPT_LANGUAGE = {"greek": "el", "arabic": "ar", "hebrew": "he", "devanagari": "hi", "thai": "th", "hangul": "ko"}


def language_match(q: str, a: str) -> float | None:
    from scoring.scorers.language import _WORD_TO_LANGUAGES  # the stopword lists themselves (data, not code)

    text = q + "\n" + a
    counts = {script: len(p.findall(text)) for script, p in SCRIPTS.items()}
    letters = sum(counts.values())
    if not letters:
        return None
    shares: dict[str, float] = {}

    def add(language, count):
        if count:
            shares[language] = shares.get(language, 0.0) + count / letters

    for script, language in SCRIPT_LANGUAGE.items():
        add(language, counts[script])
    add("ja", counts["kana"] + counts["han"]) if counts["kana"] else add("zh", counts["han"])
    add("uk" if re.search(r"[іїєґІЇЄҐ]", text) else "ru", counts["cyrillic"])
    if counts["latin"]:
        votes: dict[str, float] = {}
        for word in re.findall(r"[a-zà-ÿ]+", text.lower()):
            for language in _WORD_TO_LANGUAGES.get(word, ()):
                votes[language] = votes.get(language, 0.0) + 1.0 / len(_WORD_TO_LANGUAGES[word])
        total = sum(votes.values())
        if total:
            for language, vote in votes.items():
                add(language, counts["latin"] * vote / total)
        else:
            add("und", counts["latin"])
    determined = sum(v for k, v in shares.items() if k != "und")
    return shares.get("en", 0.0) / determined if determined else None


FLESCH_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def _syllables(word: str) -> int:
    word = word.lower().split("'")[0]
    count = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith("le") and count > 1:
        count -= 1
    return max(count, 1)


def flesch_reading_ease(q: str, a: str) -> float | None:
    tokens = FLESCH_WORD.findall(a)
    if not tokens:
        return None
    sentences = max(len(re.findall(r"[.!?]+(?=\s|$)", a)), 1)
    return 206.835 - 1.015 * (len(tokens) / sentences) - 84.6 * (sum(map(_syllables, tokens)) / len(tokens))


def vocd_d(q: str, a: str) -> float | None:
    from scipy.optimize import minimize_scalar

    tokens = tokens_of(a)
    if len(tokens) < 50:
        return None
    observed = [(size, _hdd(tokens, size)) for size in range(35, 51)]

    def loss(d):
        return sum((ttr - (d / size) * (math.sqrt(1.0 + 2.0 * size / d) - 1.0)) ** 2 for size, ttr in observed)

    return float(minimize_scalar(loss, bounds=(0.01, 1000.0), method="bounded", options={"xatol": 1e-6}).x)


def alnum_ratio(q: str, a: str) -> float | None:
    return sum(1 for c in a if c.isalnum()) / len(a) if a else None


def special_char_ratio(q: str, a: str) -> float | None:
    return sum(1 for c in a if not c.isalnum() and not c.isspace()) / len(a) if a else None


def char_repetition(q: str, a: str, n: int = 10) -> float | None:
    freq: dict[str, int] = {}
    for i in range(len(a) - n + 1):
        freq[a[i : i + n]] = freq.get(a[i : i + n], 0) + 1
    if not freq:
        return None
    values = sorted(freq.values(), reverse=True)
    top = min(int(math.sqrt(len(values))), len(values) - values.count(1))
    return sum(values[:top]) / sum(values)


#: scorer name -> reference function(instruction, response)
REFERENCES = {
    name: globals()[name]
    for name in (
        "instruction_tokens", "response_tokens", "char_length", "mtld", "hdd", "unique_ngram_ratio", "repetition",
        "token_entropy", "zlib_ratio", "logical_connectives", "think_tag", "pure_thinking", "python_syntax",
        "language_match", "flesch_reading_ease", "vocd_d", "ngram_entropy", "alnum_ratio", "special_char_ratio",
        "char_repetition",
    )
}
