"""Normalisation is fixed by each scorer's declared range and transform, never by the data."""

from __future__ import annotations

import math

import pytest

from scoring.scorers.base import AXES, SampleText, build_scorer, normalise_value, scorer_classes

HEURISTICS = [
    "instruction_tokens",
    "response_tokens",
    "char_length",
    "mtld",
    "hdd",
    "unique_ngram_ratio",
    "repetition",
    "token_entropy",
    "zlib_ratio",
    "logical_connectives",
    "think_tag",
    "pure_thinking",
    "python_syntax",
    "language_match",
    "flesch_reading_ease",
]


def test_every_heuristic_is_registered_with_full_metadata():
    classes = scorer_classes()
    for name in HEURISTICS:
        meta = classes[name].meta
        assert meta.name == name
        assert meta.axis in AXES
        assert meta.reads in ("Q", "A", "QA")
        assert meta.raw_range[1] > meta.raw_range[0]
        assert meta.needs_model is False
        assert meta.version and meta.description
        assert meta.scope == "sample"


@pytest.mark.parametrize("name", HEURISTICS)
def test_normalised_values_lie_in_unit_interval(name):
    scorer = build_scorer(name)
    texts = ["", "a", "a a a a a a", "The cat sat. " * 50, "```python\nx = (\n```", "<think>x</think>", "你好"]
    samples = [SampleText(idx=i, instruction=t, response=t) for i, t in enumerate(texts)]
    for raw in scorer.score_batch(samples):
        norm = scorer.normalise(raw)
        assert norm is None if raw is None else 0.0 <= norm <= 1.0


def test_direction_and_clipping():
    better = build_scorer("zlib_ratio").meta  # higher is better, range 0..1
    assert normalise_value(better, 0.25) == 0.25
    assert normalise_value(better, -3) == 0.0 and normalise_value(better, 7) == 1.0
    worse = build_scorer("repetition").meta  # lower is better: 1 is always the better end
    assert normalise_value(worse, 0.25) == 0.75
    assert normalise_value(worse, 0.0) == 1.0 and normalise_value(worse, 2.0) == 0.0
    assert normalise_value(worse, None) is None and normalise_value(worse, float("nan")) is None


def test_log_transform():
    meta = build_scorer("response_tokens").meta  # log over 0..4096
    assert normalise_value(meta, 0) == 0.0
    assert normalise_value(meta, 4096) == 1.0
    assert normalise_value(meta, 63) == pytest.approx(math.log(64) / math.log(4097))
    assert normalise_value(meta, 10**6) == 1.0


def test_same_raw_gives_same_normalised_whatever_else_is_scored():
    scorer = build_scorer("mtld")
    target = SampleText(idx=0, instruction="q", response="the cat sat on the mat with the hat")
    short = [target, SampleText(idx=1, instruction="q", response="a a a")]
    long = [SampleText(idx=0, instruction="q", response=" ".join(f"w{i}" for i in range(150))), target]
    assert scorer.normalise(scorer.score_batch(short)[0]) == scorer.normalise(scorer.score_batch(long)[1])
