"""The heuristic scorers' fast paths agree with the plain definitions they replace, on arbitrary text.

Each fast path (C-level splitting, one-scan script counts, connectives from cached words, per-distinct-count HD-D,
plain-float Brent) is checked against the straightforward expression it stands for, written out here.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from scoring.scorers import connectives, language, lexical_diversity, vocd
from scoring.text_features import words

# text that exercises the edge cases: ASCII words and punctuation, Latin-1 letters, other scripts, IGNORECASE
# look-alikes (dotted/dotless i, long s, Kelvin sign), whitespace of every kind, digits and underscores
ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyz ABCIKS.,;:!?'\"-_019\n\t\r\x0c\x1c")
    + ["\u00a0", "\u2003", "é", "ÿ", "÷", "ß", "Ä", "ı", "İ", "ſ", "\u212a", "я", "і", "中", "か", "한", "α", "ا", "’", "😀"]
)
WORDY = st.lists(
    st.one_of(
        st.sampled_from(
            ["so", "that", "is", "on", "the", "other", "hand", "as", "a", "result", "if", "then", "first", "for",
             "example", "in", "addition", "it", "follows", "which", "means", "provided", "because", "de", "la", "und",
             # IGNORECASE look-alikes of connectives: dotless i, long s, dotted capital I
             "ıf", "ſo", "ſince", "fırst", "İf", "thıs", "ıs", "\u212aind"]
        ),
        st.text(ALPHABET, max_size=6),
    ),
    max_size=40,
).map(lambda parts: "".join(p + s for p, s in zip(parts, [" ", "  ", "\n", ", ", "x", " ", ".", "\u00a0"] * 10)))
TEXT = st.one_of(st.text(ALPHABET, max_size=200), WORDY, st.text(max_size=80))


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_words_are_the_word_runs_of_the_lowercased_text(text):
    assert list(words(text)) == re.findall(r"\w+", text.lower())


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_connectives_count_as_the_one_expression(text):
    assert connectives.count_connectives(text) == len(connectives._CONNECTIVE_RE.findall(text))


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_script_counts_and_latin_words_as_the_ten_scans(text):
    assert language.script_counts(text) == {s: len(p.findall(text)) for s, p in language._SCRIPTS.items()}
    assert language.latin_words(text.lower()) == re.findall(r"[a-zà-ÿ]+", text.lower())


def hdd_by_definition(tokens, sample_size=42):
    n, s, total = len(tokens), min(sample_size, len(tokens)), 0.0
    log_denominator = math.lgamma(n + 1) - math.lgamma(n - s + 1)
    for count in Counter(tokens).values():
        rest = n - count
        p_absent = 0.0 if rest < s else math.exp(math.lgamma(rest + 1) - math.lgamma(rest - s + 1) - log_denominator)
        total += 1.0 - p_absent
    return total / s


TOKENS = st.lists(st.sampled_from("a b c d e f g h i j k l m n o p q r s t u v w x y z".split()), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(TOKENS, st.integers(min_value=1, max_value=60))
def test_hdd_as_defined(tokens, size):
    assert lexical_diversity.hdd(tokens, sample_size=size) == hdd_by_definition(tokens, size)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([f"w{i}" for i in range(80)]), min_size=50, max_size=400))
def test_vocd_as_scipy_bounded_minimisation(tokens):
    observed = [(size, hdd_by_definition(tokens, size)) for size in vocd.SIZES]

    def loss(d):
        return sum((ttr - vocd.vocd_curve(size=size, d=d)) ** 2 for size, ttr in observed)

    fit = minimize_scalar(loss, bounds=(vocd.MIN_D, vocd.MAX_D), method="bounded", options={"xatol": 1e-6})
    assert vocd.vocd_d(tokens) == float(fit.x)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_character_counts_as_defined(text):
    from scoring.scorers.characters import alnum_and_space_counts

    assert alnum_and_space_counts(text) == (sum(map(str.isalnum, text)), sum(map(str.isspace, text)))


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, st.text(ALPHABET, min_size=70, max_size=800), WORDY.map(lambda t: t * 3)), st.integers(1, 12))
def test_char_repetition_as_data_juicer_defines_it(text, n):
    from scoring.scorers.characters import char_repetition_ratio

    freq: dict[str, int] = {}
    for i in range(len(text) - n + 1):  # data-juicer's CharacterRepetitionFilter, written out
        freq[text[i : i + n]] = freq.get(text[i : i + n], 0) + 1
    if not freq:
        assert char_repetition_ratio(text, n) is None
        return
    values = sorted(freq.values(), reverse=True)
    top = min(int(math.sqrt(len(values))), len(values) - values.count(1))
    assert char_repetition_ratio(text, n) == sum(values[:top]) / sum(values)


@settings(max_examples=400, deadline=None)
@given(st.one_of(TEXT, st.text(st.characters(max_codepoint=127), max_size=200)))
def test_count_tokens_as_the_regex(text):
    from arena.ingest.schema import _TOKEN_RE, count_tokens

    assert count_tokens(text) == len(_TOKEN_RE.findall(text))


@settings(max_examples=400, deadline=None)
@given(st.one_of(TEXT, WORDY.map(lambda t: t.replace("x", "'"))))
def test_flesch_words_as_the_expression(text):
    from scoring.scorers.readability import _WORD_RE, latin_words

    assert latin_words(text) == _WORD_RE.findall(text)
