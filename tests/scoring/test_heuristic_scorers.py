"""Each heuristic scorer on small examples whose values are worked out by hand here."""

from __future__ import annotations

import math
import zlib

import pytest

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, build_scorer


def score(name: str, response: str = "", instruction: str = "", **config):
    scorer = build_scorer(name, config=config or None)
    (value,) = scorer.score_batch([SampleText(idx=0, instruction=instruction, response=response)])
    return value


def test_token_and_character_lengths():
    # "Hello, world!" -> Hello | , | world | !  = 4 tokens (words and punctuation marks)
    assert score("instruction_tokens", instruction="Hello, world!") == 4.0
    assert score("response_tokens", response="It is 42.") == 4.0
    assert score("char_length", instruction="abc", response="dé") == 5.0  # code points, not bytes


def test_mtld_by_hand():
    # "a a a a": forward, the TTR drops to 1/2 at tokens 2 and 4 -> 2 full factors, MTLD = 4 / 2 = 2 both ways.
    assert score("mtld", "a a a a") == pytest.approx(2.0)
    # "a b a c": forward: TTR a=1, ab=1, aba=2/3 < 0.72 -> 1 factor; remainder "c" TTR 1 adds 0 -> 4 / 1 = 4.
    # backward "c a b a": TTR 1, 1, 1, 3/4 (not below 0.72) -> partial (1 - 0.75) / (1 - 0.72) -> 4 / 0.892857.
    backward = 4 / ((1 - 0.75) / (1 - 0.72))
    assert score("mtld", "A b, a C.") == pytest.approx((4 + backward) / 2)
    # no repeated word: MTLD unbounded, reported as its lower bound, the token count
    assert score("mtld", "one two three") == 3.0
    assert score("mtld", "") is None
    # a different threshold changes the forward factor count: at 0.6, "a b a c" never drops below
    assert score("mtld", "a b a c", threshold=0.6) != score("mtld", "a b a c")
    with pytest.raises(InvalidInput, match="threshold"):
        build_scorer("mtld", config={"threshold": 1.5})


def test_hdd_by_hand():
    # shorter than 42 tokens: the draw is the whole text, HD-D = TTR = 2/3
    assert score("hdd", "a a b") == pytest.approx(2 / 3)
    # 42 x "a" + 42 x "b": each type is absent from a 42-token draw with probability C(42, 42) / C(84, 42)
    p_absent = 1 / math.comb(84, 42)
    assert score("hdd", " ".join(["a"] * 42 + ["b"] * 42)) == pytest.approx(2 * (1 - p_absent) / 42)
    assert score("hdd", "") is None


def test_unique_ngram_ratio_and_repetition():
    # "a b a b": bigrams ab, ba, ab -> 2 distinct of 3; the top bigram "a b" takes 2 of 3
    assert score("unique_ngram_ratio", "a b a b") == pytest.approx(2 / 3)
    assert score("unique_ngram_ratio", "a b a b", n=1) == pytest.approx(2 / 4)
    assert score("repetition", "a b a b") == pytest.approx(2 / 3)
    assert score("repetition", "a b c d") == 0.0  # nothing repeats
    assert score("repetition", "a") is None  # fewer words than n
    with pytest.raises(InvalidInput, match="option 'n' must be an integer from 1 to 8"):
        build_scorer("repetition", config={"n": 0})


def test_token_entropy_bits():
    assert score("token_entropy", "a a b b") == pytest.approx(1.0)
    assert score("token_entropy", "a b c d") == pytest.approx(2.0)
    assert score("token_entropy", "same same same") == 0.0
    assert score("token_entropy", "   ") is None


def test_zlib_ratio():
    text = "a" * 100
    expected = len(zlib.compress(text.encode(), 9)) / 100
    assert score("zlib_ratio", text) == pytest.approx(expected)
    assert expected < 0.2  # 100 repeated bytes compress to a dozen
    assert score("zlib_ratio", "x") > 1  # a 1-byte text grows by zlib's header and checksum
    assert score("zlib_ratio", "") is None


def test_logical_connectives():
    text = "Because it rained, therefore we stayed in. As a result, we read. If it clears, then we go."
    # because, therefore, as a result, if, then
    assert score("logical_connectives", text) == 5.0
    assert score("logical_connectives", "Ifs and buts; sincerely, thenceforth.") == 0.0  # whole words only


def test_think_tag_and_pure_thinking():
    assert score("think_tag", "<think>step one</think>The answer is 4.") == 1.0
    assert score("think_tag", "The answer is 4.") == 0.0
    assert score("think_tag", "<THINKING>x</THINKING> y") == 1.0
    assert score("pure_thinking", "<think>step one</think>The answer is 4.") == 0.0
    assert score("pure_thinking", "<think>step one</think>\n  ") == 1.0
    assert score("pure_thinking", "<think>never closed, no answer") == 1.0
    assert score("pure_thinking", "no tags at all") == 0.0


def test_python_syntax():
    good = "```python\ndef f(x):\n    return x + 1\n```"
    bad = "```py\ndef f(:\n    pass\n```"
    assert score("python_syntax", good) == 1.0
    assert score("python_syntax", bad) == 0.0
    assert score("python_syntax", good + "\nand\n" + bad) == 0.5
    assert score("python_syntax", "No code here.") is None
    assert score("python_syntax", "```js\nlet x = ;\n```") is None  # not Python
    assert score("python_syntax", "```\nimport os\nprint(os.getcwd())\n```") == 1.0  # untagged, Python-looking
    assert score("python_syntax", "```\n" + "(" * 300 + ")" * 300 + "\n```") is None  # untagged, not Python-looking


def test_language_match():
    assert score("language_match", "The cat and the dog are in the garden.") == 1.0
    assert score("language_match", "Le chat est sur la table.") == 0.0
    assert score("language_match", "Le chat est sur la table.", language="fr") > 0.6
    assert score("language_match", "你好，世界", language="zh") == 1.0
    assert score("language_match", "こんにちは世界", language="ja") == 1.0
    assert score("language_match", "Привет, как дела?", language="ru") == 1.0
    # half English, half Russian letters: the share follows the letters
    mixed = score("language_match", "the cat", instruction="мир кот")
    assert 0.3 < mixed < 0.7
    assert score("language_match", "Hello") is None  # no function word, nothing determined
    assert score("language_match", "12345 !!!") is None
    with pytest.raises(InvalidInput, match="unsupported language 'xx'"):
        build_scorer("language_match", config={"language": "xx"})


def test_flesch_reading_ease():
    from scoring.scorers.readability import syllables

    assert [syllables(w) for w in ["the", "cat", "table", "make", "beautiful", "rhythm"]] == [1, 1, 2, 1, 3, 1]
    # 3 words, 1 sentence, 3 syllables: 206.835 - 1.015 * 3 - 84.6 * 1
    assert score("flesch_reading_ease", "The cat sat.") == pytest.approx(206.835 - 1.015 * 3 - 84.6)
    # "The table is beautiful. It is." -> 6 words, 2 sentences, 1+2+1+3+1+1 = 9 syllables
    assert score("flesch_reading_ease", "The table is beautiful. It is.") == pytest.approx(
        206.835 - 1.015 * 3 - 84.6 * 9 / 6
    )
    assert score("flesch_reading_ease", "123 456") is None


def test_unknown_options_are_refused():
    with pytest.raises(InvalidInput, match="does not accept option"):
        build_scorer("zlib_ratio", config={"level": 9})
    with pytest.raises(InvalidInput, match="unknown scorer 'nope'"):
        build_scorer("nope")


def test_character_statistics_by_hand():
    # "ab1 _!é\n": 8 characters; alphanumeric a b 1 é = 4; whitespace " " "\n" = 2; special "_" "!" = 2
    assert score("alnum_ratio", "ab1 _!é\n") == pytest.approx(4 / 8)
    assert score("special_char_ratio", "ab1 _!é\n") == pytest.approx(2 / 8)
    assert score("alnum_ratio", "中文 ok") == pytest.approx(4 / 5)  # letters of any script
    assert score("special_char_ratio", "😀 ok!") == pytest.approx(2 / 5)
    assert score("alnum_ratio", "") is None and score("special_char_ratio", "") is None


def test_char_repetition_by_hand():
    # "abab", n=2: bigrams ab, ba, ab -> 2 distinct, floor(sqrt(2)) = 1 top repeated frequency (ab: 2) of 3
    assert score("char_repetition", "abab", n=2) == pytest.approx(2 / 3)
    assert score("char_repetition", "abcd", n=2) == 0.0  # nothing repeats
    # "aaaa" + "bcdefgh", n=1: 8 distinct characters -> top floor(sqrt(8)) = 2, but only "a" repeats -> 4 / 11
    assert score("char_repetition", "aaaabcdefgh", n=1) == pytest.approx(4 / 11)
    assert score("char_repetition", "short") is None  # fewer than the default 10 characters
    with pytest.raises(InvalidInput, match="option 'n' must be an integer from 1 to 64"):
        build_scorer("char_repetition", config={"n": 0})
