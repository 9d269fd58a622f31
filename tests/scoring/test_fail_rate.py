"""Fail rate: answer extraction and matching by hand, the code-execution opt-in and sandbox, generation against
plain transformers on a tiny model, and the decision on hand-written completions."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from arena.errors import InvalidInput
from arena.code_sandbox import run_python
from scoring.scorers.base import SampleText, build_scorer
from scoring.scorers.fail_rate import (
    answers_match,
    code_tests,
    generate_completions,
    last_boxed,
    model_math_answer,
    reference_math_answer,
)
from arena.model_loading.loaders import load_causal_lm
from tests.scoring.model_fixtures import tiny_lm_dir  # noqa: F401

MATH = SampleText(idx=0, instruction="What is 12 times 7?", response="12 * 7 = 84, so the answer is \\boxed{84}.")
GSM8K = SampleText(idx=1, instruction="Tom has 3 apples and buys 2.", response="3 + 2 = 5\n#### 5")
OPEN = SampleText(idx=2, instruction="Write a poem.", response="Roses are red.")
CODE = SampleText(
    idx=3,
    instruction="Write a function add(a, b).\nYour code should pass these tests:\n"
    "assert add(1, 2) == 3\nassert add(0, 0) == 0",
    response="```python\ndef add(a, b):\n    return a + b\n```",
)


def test_answers_are_extracted_and_matched_by_hand():
    assert last_boxed("x \\boxed{\\frac{1}{2}} then \\boxed{3}") == "3"
    assert last_boxed("\\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert reference_math_answer(MATH.response) == "84"
    assert reference_math_answer(GSM8K.response) == "5"
    assert reference_math_answer("So the final answer is 1,024.") == "1,024"
    assert reference_math_answer(OPEN.response) is None
    assert model_math_answer("First 3, then 4, finally 12.") == "12"
    assert model_math_answer("no number here") is None
    assert answers_match(reference="1,024", candidate="1024")
    assert answers_match(reference="\\frac{1}{2}", candidate="0.5")
    assert answers_match(reference="\\dfrac{3}{4}", candidate="3/4")
    assert answers_match(reference="x + 1", candidate="x+1")
    assert answers_match(reference="\\text{Paris}", candidate="paris")
    assert not answers_match(reference="84", candidate="85")
    assert not answers_match(reference="84", candidate=None)
    assert code_tests(CODE) == ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]
    assert code_tests(MATH) == []


def test_the_decision_on_hand_written_completions(tiny_lm_dir):
    scorer = build_scorer("fail_rate", config={"model_path": str(tiny_lm_dir)})
    task = scorer.task(MATH)
    assert task == ("math", "84")
    assert scorer.fail_rate(task=task, completions=["12 times 7 is \\boxed{84}"]) == 0.0
    assert scorer.fail_rate(task=task, completions=["It is 84.", "It is 48.", "\\boxed{84}", "I don't know"]) == 0.5
    assert scorer.task(OPEN) is None
    assert scorer.task(CODE) is None  # code is not in kinds by default


def test_code_execution_is_opt_in(tiny_lm_dir, settings):
    settings.ARENA_ALLOW_CODE_EXECUTION = False
    with pytest.raises(InvalidInput, match="executes model-generated code; this deployment has not enabled it"):
        build_scorer("fail_rate", config={"model_path": str(tiny_lm_dir), "kinds": ["code"]})
    with pytest.raises(InvalidInput, match="ARENA_ALLOW_CODE_EXECUTION=true"):
        run_python(program="print(1)", timeout_s=2)


def test_code_samples_run_their_tests_in_a_limited_subprocess(tiny_lm_dir, settings):
    settings.ARENA_ALLOW_CODE_EXECUTION = True
    scorer = build_scorer("fail_rate", config={"model_path": str(tiny_lm_dir), "kinds": ["code", "math"],
                                               "timeout_s": 2.0})
    task = scorer.task(CODE)
    right = "```python\ndef add(a, b):\n    return a + b\n```"
    wrong = "```python\ndef add(a, b):\n    return a - b\n```"
    assert scorer.fail_rate(task=task, completions=[right]) == 0.0
    assert scorer.fail_rate(task=task, completions=[wrong, right]) == 0.5
    assert scorer.task(MATH) == ("math", "84")
    assert run_python(program="while True:\n    pass\n", timeout_s=1).detail == "timed out"
    hog = run_python(program="x = bytearray(4 * 1024 ** 3)\n", timeout_s=5)
    assert not hog.passed and "MemoryError" in hog.detail
    assert run_python(program="import os\nprint(os.getcwd())\nraise SystemExit(3)", timeout_s=2).detail.startswith(
        "failed")


def test_generation_matches_plain_transformers_and_scores_none_or_a_rate(tiny_lm_dir):
    lm = load_causal_lm(model_path=str(tiny_lm_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    model = AutoModelForCausalLM.from_pretrained(str(tiny_lm_dir), dtype=torch.float32).eval()
    prompts = [tokenizer("What is 12 times 7?", add_special_tokens=False)["input_ids"],
               tokenizer("Hi", add_special_tokens=False)["input_ids"]]
    batched = generate_completions(lm=lm, prompts=prompts, max_new_tokens=6, num_samples=1, temperature=0.7,
                                   seed=0, batch_size=2)
    for prompt, (text,) in zip(prompts, batched):
        with torch.no_grad():
            alone = model.generate(input_ids=torch.tensor([prompt]), max_new_tokens=6, do_sample=False,
                                   pad_token_id=tokenizer.pad_token_id)
        assert text == tokenizer.decode(alone[0, len(prompt):], skip_special_tokens=True)
    sampled = generate_completions(lm=lm, prompts=prompts[:1], max_new_tokens=6, num_samples=3, temperature=1.0,
                                   seed=0, batch_size=1)
    assert len(sampled[0]) == 3
    values = build_scorer("fail_rate", config={"model_path": str(tiny_lm_dir), "max_new_tokens": 6}).score_batch(
        [MATH, OPEN, GSM8K])
    assert values[1] is None and values[0] in (0.0, 1.0) and values[2] in (0.0, 1.0)


def test_bad_fail_rate_configs(tiny_lm_dir):
    path = str(tiny_lm_dir)
    with pytest.raises(InvalidInput, match="kinds must be a non-empty list of math, code"):
        build_scorer("fail_rate", config={"model_path": path, "kinds": ["poetry"]})
    with pytest.raises(InvalidInput, match="num_samples must be an integer >= 1"):
        build_scorer("fail_rate", config={"model_path": path, "num_samples": 0})
    with pytest.raises(InvalidInput, match="timeout_s must be a number > 0.1"):
        build_scorer("fail_rate", config={"model_path": path, "timeout_s": 0})


@pytest.mark.slow
def test_smollm2_reference_model_answers_a_math_sample():
    """SmolLM2-135M-Instruct generates 24 tokens for one verifiable and one open sample."""
    scorer = build_scorer("fail_rate", config={"max_new_tokens": 24})
    values = scorer.score_batch([SampleText(idx=0, instruction="What is 2 + 3?", response="\\boxed{5}"), OPEN])
    assert values[0] in (0.0, 1.0) and values[1] is None
