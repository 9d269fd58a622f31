"""Prompted ratings (Deita complexity/quality, AskLLM, custom) and thinking probability, against plain transformers.

Tiny random Llamas for the exact checks; SmolLM2-135M (the default model) for a short slow check.
"""
from __future__ import annotations

import math

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, build_scorer
from scoring.scorers.prompted_rating import DEITA_COMPLEXITY_TEMPLATE, DEITA_QUALITY_TEMPLATE
from tests.scoring.model_fixtures import tiny_lm_dir, tiny_plain_lm_dir  # noqa: F401

SAMPLES = [
    SampleText(idx=0, instruction="What is 12 times 7?", response="12 times 7 is 84."),
    SampleText(idx=1, instruction="Prove that there are infinitely many primes.", response="Assume finitely many."),
    SampleText(idx=2, instruction="Say hi.", response="Hi!"),
]


def reference_next_token_logprobs(model_dir, text: str, *, chat: bool, suffix: str = "") -> torch.Tensor:
    """Full-vocabulary log-probabilities after the prompt, from one plain forward pass."""
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    if chat:
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                                 add_generation_prompt=True) + suffix
        ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    else:
        ids = [tokenizer.bos_token_id] + tokenizer(text + suffix, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1].double()
    return torch.log_softmax(logits, dim=-1), tokenizer


@pytest.mark.parametrize("fixture_name,chat", [("tiny_lm_dir", True), ("tiny_plain_lm_dir", False)])
def test_deita_ratings_are_expectations_over_rating_tokens(fixture_name, chat, request):
    model_dir = request.getfixturevalue(fixture_name)
    for name, template in (("deita_complexity", DEITA_COMPLEXITY_TEMPLATE), ("deita_quality", DEITA_QUALITY_TEMPLATE)):
        scorer = build_scorer(name, config={"model_path": str(model_dir), "batch_size": 2})
        values = scorer.score_batch(SAMPLES)
        for sample, value in zip(SAMPLES, values):
            text = template.format(instruction=sample.instruction, response=sample.response)
            logprobs, tokenizer = reference_next_token_logprobs(model_dir, text, chat=chat)
            ids = [tokenizer(str(k), add_special_tokens=False)["input_ids"][0] for k in range(1, 7)]
            weights = torch.softmax(logprobs[ids], dim=0)
            assert value == pytest.approx(float((weights * torch.arange(1, 7).double()).sum()), abs=1e-5)
            assert 1.0 <= value <= 6.0
        assert len({round(v, 6) for v in values}) == len(SAMPLES)
    assert build_scorer("deita_complexity", config={"model_path": str(model_dir)}).meta.reads == "Q"
    assert build_scorer("deita_quality", config={"model_path": str(model_dir)}).meta.reads == "QA"


def test_custom_template_with_word_labels_and_values(tiny_lm_dir):
    config = {
        "model_path": str(tiny_lm_dir),
        "template": "Is this answer correct? {instruction} -> {response}. Reply",
        "ratings": ["a", "b", "c"],
        "values": [0, 5, 10],
    }
    scorer = build_scorer("prompted_rating", config=config)
    assert scorer.meta.raw_range == (0.0, 10.0) and scorer.meta.reads == "QA"
    value = scorer.score_batch(SAMPLES[:1])[0]
    text = f"Is this answer correct? {SAMPLES[0].instruction} -> {SAMPLES[0].response}. Reply"
    logprobs, tokenizer = reference_next_token_logprobs(tiny_lm_dir, text, chat=True)
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"][0] for t in "abc"]
    weights = torch.softmax(logprobs[ids], dim=0)
    assert value == pytest.approx(float(weights @ torch.tensor([0.0, 5.0, 10.0]).double()), abs=1e-5)


def test_thinking_probability_is_one_minus_the_markers_probability(tiny_lm_dir):
    scorer = build_scorer("thinking_probability", config={"model_path": str(tiny_lm_dir), "batch_size": 2})
    values = scorer.score_batch(SAMPLES)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    model = AutoModelForCausalLM.from_pretrained(str(tiny_lm_dir), dtype=torch.float32).eval()
    close = tokenizer("</think>", add_special_tokens=False)["input_ids"]
    assert len(close) > 1  # a multi-token marker: the product of its tokens' probabilities
    for sample, value in zip(SAMPLES, values):
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": sample.instruction}], tokenize=False,
                                                 add_generation_prompt=True) + "<think>\n"
        prompt = tokenizer(rendered, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logprobs = torch.log_softmax(model(input_ids=torch.tensor([prompt + close])).logits[0].double(), dim=-1)
        marker = sum(float(logprobs[len(prompt) + i - 1, token]) for i, token in enumerate(close))
        assert value == pytest.approx(1.0 - math.exp(marker), abs=1e-6)


def test_bad_rating_configs_are_refused(tiny_lm_dir):
    path = str(tiny_lm_dir)
    with pytest.raises(InvalidInput, match="template must be a non-empty string"):
        build_scorer("prompted_rating", config={"model_path": path, "ratings": ["1", "2"]})
    with pytest.raises(InvalidInput, match=r"template must contain \{instruction\}"):
        build_scorer("prompted_rating", config={"model_path": path, "template": "{answer}", "ratings": ["1", "2"]})
    with pytest.raises(InvalidInput, match="ratings must be a list of at least 2"):
        build_scorer("deita_quality", config={"model_path": path, "ratings": ["1"]})
    with pytest.raises(InvalidInput, match="values must be a list of 6 numbers"):
        build_scorer("deita_quality", config={"model_path": path, "values": [1, 2]})
    with pytest.raises(InvalidInput, match="chat_template must be one of auto, on, off"):
        build_scorer("askllm", config={"model_path": path, "chat_template": "maybe"})
    with pytest.raises(InvalidInput, match="rating label 'excellent' is .* tokens for this model"):
        build_scorer("deita_quality", config={"model_path": path, "ratings": ["excellent", "1"], "values": [1, 0]}
                     ).score_batch(SAMPLES[:1])


@pytest.mark.slow
def test_smollm2_default_ratings_are_in_range():
    """The default model (SmolLM2-135M-Instruct): one batch of 2 samples per scorer."""
    for name, low, high in (("deita_complexity", 1, 6), ("deita_quality", 1, 6), ("askllm", 0, 1),
                            ("thinking_probability", 0, 1)):
        scorer = build_scorer(name, config={"max_length": 256})
        values = scorer.score_batch(SAMPLES[:2])
        assert all(low <= v <= high for v in values), (name, values)
        assert scorer.model_identity()["model"] == "SmolLM2-135M-Instruct"
    # a hard proof request is rated more complex than a times table by the default model
    easy, hard = build_scorer("deita_complexity").score_batch(SAMPLES[:2])
    assert hard > easy
