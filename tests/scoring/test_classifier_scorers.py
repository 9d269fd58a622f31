"""Reward-model and quality-classifier scorers on tiny locally created models, against plain transformers."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, build_scorer
from tests.scoring.model_fixtures import (  # noqa: F401
    tiny_classifier_dir,
    tiny_lm_dir,
    tiny_reward_dir,
)

SAMPLES = [
    SampleText(idx=0, instruction="What is 12 times 7?", response="12 times 7 is 84."),
    SampleText(idx=1, instruction="Write a haiku about the sea.", response="Waves fold into foam,\nsalt on stones."),
    SampleText(idx=2, instruction="List three primes.", response="2, 3, 5", system="Answer tersely."),
    SampleText(idx=3, instruction="Explain recursion.", response="A function that calls itself on a smaller piece."),
]


def reference_logits(model_dir, texts, *, pair: bool = False, special: bool = True) -> torch.Tensor:
    """One unbatched forward per text with plain transformers."""
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            encoded = tokenizer(*text, return_tensors="pt") if pair else tokenizer(
                text, return_tensors="pt", add_special_tokens=special
            )
            rows.append(model(**encoded).logits[0].double())
    return torch.stack(rows)


def test_reward_model_matches_plain_transformers_batched(tiny_reward_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_reward_dir))
    texts = []
    for s in SAMPLES:
        messages = ([{"role": "system", "content": s.system}] if s.system else []) + [
            {"role": "user", "content": s.instruction},
            {"role": "assistant", "content": s.response},
        ]
        texts.append(tokenizer.apply_chat_template(messages, tokenize=False))
    expected = reference_logits(tiny_reward_dir, texts, special=False)[:, 0]
    scorer = build_scorer("reward_model", config={"model_path": str(tiny_reward_dir), "batch_size": 3})
    values = scorer.score_batch(SAMPLES)
    assert values == pytest.approx(expected.tolist(), abs=1e-4)
    assert len({round(v, 5) for v in values}) == len(SAMPLES)  # the random model tells the samples apart
    identity = scorer.model_identity()
    assert identity["model_path"] == str(tiny_reward_dir) and identity["num_labels"] == 1
    assert identity["architecture"] == "LlamaForSequenceClassification" and len(identity["fingerprint"]) == 16
    assert scorer.normalise(0.0) == 0.5 and scorer.normalise(50.0) == 1.0


def test_quality_classifier_modes_match_plain_transformers(tiny_classifier_dir):
    texts = [f"{s.instruction}\n\n{s.response}" for s in SAMPLES]
    logits = reference_logits(tiny_classifier_dir, texts)
    probabilities = torch.softmax(logits, dim=-1)
    config = {"model_path": str(tiny_classifier_dir), "batch_size": 2}
    expected_class = build_scorer("quality_classifier", config=config).score_batch(SAMPLES)
    assert expected_class == pytest.approx((probabilities @ torch.arange(6.0).double()).tolist(), abs=1e-5)
    label = build_scorer("quality_classifier", config={**config, "mode": "label_probability", "label": "grade5"})
    assert label.score_batch(SAMPLES) == pytest.approx(probabilities[:, 5].tolist(), abs=1e-5)
    answers = build_scorer("quality_classifier", config={**config, "text": "a", "score_range": [0, 1]})
    assert answers.meta.reads == "A" and answers.meta.raw_range == (0.0, 1.0)
    answer_logits = reference_logits(tiny_classifier_dir, [s.response for s in SAMPLES])
    assert answers.score_batch(SAMPLES) == pytest.approx(
        (torch.softmax(answer_logits, -1) @ torch.arange(6.0).double()).tolist(), abs=1e-5
    )


def test_quality_classifier_regression_head_is_the_logit(tiny_reward_dir):
    scorer = build_scorer("quality_classifier", config={"model_path": str(tiny_reward_dir), "text": "a"})
    assert scorer.mode == "regression"
    expected = reference_logits(tiny_reward_dir, [s.response for s in SAMPLES])[:, 0]
    assert scorer.score_batch(SAMPLES) == pytest.approx(expected.tolist(), abs=1e-4)


def test_bad_classifier_configs_are_refused(tiny_classifier_dir, tiny_reward_dir, tiny_lm_dir, tmp_path):
    with pytest.raises(InvalidInput, match="needs config model_path"):
        build_scorer("reward_model")
    with pytest.raises(InvalidInput, match="does not exist"):
        build_scorer("quality_classifier", config={"model_path": str(tmp_path / "none")})
    with pytest.raises(InvalidInput, match="has 6 output labels; a reward model has exactly one"):
        build_scorer("reward_model", config={"model_path": str(tiny_classifier_dir)})
    with pytest.raises(InvalidInput, match="mode must be one of"):
        build_scorer("quality_classifier", config={"model_path": str(tiny_classifier_dir), "mode": "max"})
    with pytest.raises(InvalidInput, match="needs label, one of"):
        build_scorer("quality_classifier", config={"model_path": str(tiny_classifier_dir), "mode": "label_probability"})
    with pytest.raises(InvalidInput, match="regression needs a one-logit head"):
        build_scorer("quality_classifier", config={"model_path": str(tiny_classifier_dir), "mode": "regression"})
    with pytest.raises(InvalidInput, match="score_range must be"):
        build_scorer("quality_classifier", config={"model_path": str(tiny_reward_dir), "score_range": [5, 0]})
    with pytest.raises(InvalidInput, match="batch_size must be an integer >= 1"):
        build_scorer("reward_model", config={"model_path": str(tiny_reward_dir), "batch_size": 0})
