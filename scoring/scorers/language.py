"""Language identification without a model: Unicode script shares plus stopword votes for Latin-script languages.

How it decides (honestly simple, offline, fast):

1. Count letters per Unicode script (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Han, Kana, Hangul).
2. A non-Latin script maps to its language: Hangul -> ko; Kana (with any Han) -> ja; Han alone -> zh;
   Cyrillic -> uk when Ukrainian-only letters (і ї є ґ) appear, else ru; Greek -> el; Arabic -> ar;
   Hebrew -> he; Devanagari -> hi; Thai -> th.
3. The Latin share is split between en, fr, de, es, it, pt, nl in proportion to hits in each
   language's list of frequent function words. Latin text with no such word is *undetermined*.

The language scorer reports the share of the determined evidence that belongs to the target language
(None when nothing could be determined, e.g. no letters or a few Latin words that are no function words).
It cannot tell apart languages it does not list (a Latin-script Polish text splits its votes among the seven).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register
from scoring.text_features import ascii_table, runs

_SCRIPTS = {
    "latin": re.compile(r"[A-Za-z\u00C0-\u024F]"),
    "cyrillic": re.compile(r"[\u0400-\u04FF]"),
    "greek": re.compile(r"[\u0370-\u03FF]"),
    "arabic": re.compile(r"[\u0600-\u06FF\u0750-\u077F]"),
    "hebrew": re.compile(r"[\u0590-\u05FF]"),
    "devanagari": re.compile(r"[\u0900-\u097F]"),
    "thai": re.compile(r"[\u0E00-\u0E7F]"),
    "han": re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF]"),
    "kana": re.compile(r"[\u3040-\u30FF]"),
    "hangul": re.compile(r"[\u1100-\u11FF\uAC00-\uD7AF]"),
}
_SCRIPT_LANGUAGE = {"greek": "el", "arabic": "ar", "hebrew": "he", "devanagari": "hi", "thai": "th", "hangul": "ko"}
_UKRAINIAN_RE = re.compile(r"[іїєґІЇЄҐ]")

STOPWORDS = {
    "en": "the and of to is in that it was for on are with as this be at by not or from have but what you which "
    "they we an were there can would will should how your my he she his her their do does".split(),
    "fr": "le la les des est et une du en que qui dans pour pas sur au avec ce il elle sont nous vous mais ou être "
    "cette aux je".split(),
    "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es wird sind wie oder aber "
    "ich wir sie einen werden".split(),
    "es": "el la los las de que y en un una es por con para del se no al lo como más pero sus le ya está son este "
    "esta también".split(),
    "it": "il di che e la per un una non sono del della con è gli le si da nel al come anche più questo ma ha dei "
    "delle".split(),
    "pt": "o a os as de que e do da em um uma para com não por se na no dos mais como mas ao ele ela são também "
    "está".split(),
    "nl": "de het een en van is dat niet op te zijn voor met die er aan ook als bij maar om wordt naar dan nog wat "
    "worden deze hij zij".split(),
}
_WORD_TO_LANGUAGES: dict[str, list[str]] = {}
for _language, _words in STOPWORDS.items():
    for _word in set(_words):
        _WORD_TO_LANGUAGES.setdefault(_word, []).append(_language)
_LATIN_WORD_RE = re.compile(r"[a-zà-ÿ]+")
_NON_ASCII_LATIN_RE = re.compile(r"[à-ÿ]")
_ASCII_LATIN_TABLE = ascii_table(string.ascii_lowercase)

LANGUAGES = sorted([*STOPWORDS, *_SCRIPT_LANGUAGE.values(), "ru", "uk", "zh", "ja"])


#: per stopword, the (language, vote) pairs it gives: a word shared by k languages gives each 1/k
_WORD_VOTES: dict[str, tuple[tuple[str, float], ...]] = {
    word: tuple((language, 1.0 / len(languages)) for language in languages)
    for word, languages in _WORD_TO_LANGUAGES.items()
}
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


def script_counts(text: str) -> dict[str, int]:
    """Letters of the text per script (``_SCRIPTS``), in ``_SCRIPTS``' order.

    The same counts as ``len(pattern.findall(text))`` for every script, with one scan instead of ten: ASCII letters
    (Latin) are counted on the UTF-8 bytes, where every other character's bytes are >= 0x80; the ten patterns then
    only scan the text's non-ASCII characters, which in most texts are few or none."""
    data = text.encode("utf-8", "surrogatepass")
    ascii_letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    if len(data) == len(text):  # ASCII only
        return {script: (ascii_letters if script == "latin" else 0) for script in _SCRIPTS}
    rest = "".join(_NON_ASCII_RE.findall(text))
    counts = {script: len(pattern.findall(rest)) for script, pattern in _SCRIPTS.items()}
    counts["latin"] += ascii_letters
    return counts


def latin_words(low: str) -> list[str]:
    """``_LATIN_WORD_RE.findall(low)``."""
    return runs(low, table=_ASCII_LATIN_TABLE, pattern=_LATIN_WORD_RE, non_ascii_member=_NON_ASCII_LATIN_RE)


def language_shares(text: str) -> dict[str, float]:
    """Shares of the text's letters attributed to each language; ``"und"`` holds the undetermined Latin share."""
    counts = script_counts(text)
    letters = sum(counts.values())
    shares: dict[str, float] = {}
    if not letters:
        return shares

    def add(language: str, count: float) -> None:
        if count:
            shares[language] = shares.get(language, 0.0) + count / letters

    for script, language in _SCRIPT_LANGUAGE.items():
        add(language, counts[script])
    if counts["kana"]:
        add("ja", counts["kana"] + counts["han"])
    else:
        add("zh", counts["han"])
    add("uk" if counts["cyrillic"] and _UKRAINIAN_RE.search(text) else "ru", counts["cyrillic"])
    if counts["latin"]:
        votes: dict[str, float] = {}
        # only the stopwords' votes enter the Python loop, in text order as before
        for word_votes in filter(None, map(_WORD_VOTES.get, latin_words(text.lower()))):
            for language, vote in word_votes:
                votes[language] = votes.get(language, 0.0) + vote
        total = sum(votes.values())
        if total:
            for language, vote in votes.items():
                add(language, counts["latin"] * vote / total)
        else:
            add("und", counts["latin"])
    return shares


@register
class LanguageMatch(Scorer):
    meta = ScorerMeta(
        name="language_match",
        axis="language",
        reads="QA",
        raw_range=(0, 1),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="Share of the instruction+response's determined language evidence (Unicode script letters; "
        "function-word votes for Latin-script en/fr/de/es/it/pt/nl) that belongs to the target language "
        "(option language, default en). None when no language can be determined.",
    )
    default_config = {"language": "en"}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        if self.config["language"] not in LANGUAGES:
            raise InvalidInput(
                f"scorer 'language_match': unsupported language {self.config['language']!r}; "
                f"supported: {', '.join(LANGUAGES)}"
            )
        self.language = self.config["language"]

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            shares = language_shares(sample.instruction + "\n" + sample.response)
            determined = sum(v for k, v in shares.items() if k != "und")
            out.append(shares.get(self.language, 0.0) / determined if determined else None)
        return out
