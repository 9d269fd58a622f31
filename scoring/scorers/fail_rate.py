"""Fail rate: 1 - pass@1 of a reference model on samples with a verifiable answer (OpenDataArena's FailRate).

The reference model (a local causal LM, SmolLM2-135M-Instruct by default) answers the sample's instruction
``num_samples`` times (greedy when 1, else sampling at ``temperature`` from ``seed``); the fail rate is the share of
its answers that are wrong. High = the task is hard for the reference model. Which samples are verifiable:

* math (``kinds`` contains "math", the default): the dataset's response states a final answer as ``\\boxed{...}``
  (the last one), a GSM8K ``#### answer`` line, or "the (final) answer is X". The model is asked to box its answer
  (``math_suffix``); its answer is the last ``\\boxed{}``, else the last number it wrote. Answers match when equal
  after normalisation (spaces, $, \\text{}, \\left/\\right, thousands separators, a trailing period) or when both are
  numbers (integers, decimals, fractions a/b or \\frac{a}{b}) within 1e-6 relative.
* code (``kinds`` contains "code"; requires ``ARENA_ALLOW_CODE_EXECUTION=true``, refused at configuration
  otherwise): the instruction (MBPP style) or the response's code holds ``assert`` tests. The model's program (its
  first fenced block, else its whole answer) runs with those tests in a limited subprocess (arena/code_sandbox.py);
  exit status 0 within ``timeout_s`` = pass.

Any other sample has no verifiable answer: its score is None (never a default).
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

from arena.errors import InvalidInput
from arena.code_sandbox import require_code_execution, run_python
from arena.model_loading.loaders import LoadedCausalLM
from scoring.scorers.base import LazyModule, SampleText, ScorerMeta, inference_mode, int_option, register
from scoring.scorers.perplexity import LanguageModelScorer
from scoring.scorers.prompted_rating import render_prompt_ids

torch = LazyModule("torch")  # imported on first use: see LazyModule


KINDS = ("math", "code")
_FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)```", re.DOTALL)
_GSM8K = re.compile(r"^####\s*(.+?)\s*$", re.MULTILINE)
_ANSWER_IS = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*\$?([^\n$]+?)\$?\s*(?:\.|\n|$)", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")
_ASSERT = re.compile(r"^\s*assert\b.*$", re.MULTILINE)


# --- math answers --------------------------------------------------------------------------------------------
def last_boxed(text: str) -> str | None:
    """The content of the last \\boxed{...} (or \\fbox{...}), braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start == -1:
        return None
    i = text.index("{", start) + 1
    depth, begin = 1, i
    while i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[begin:i].strip()
        i += 1
    return None


def reference_math_answer(text: str) -> str | None:
    """The final answer a dataset response states, or None when it states none."""
    boxed = last_boxed(text)
    if boxed:
        return boxed
    gsm8k = _GSM8K.findall(text)
    if gsm8k:
        return gsm8k[-1]
    stated = _ANSWER_IS.findall(text)
    return stated[-1].strip() if stated else None


def model_math_answer(text: str) -> str | None:
    boxed = last_boxed(text)
    if boxed:
        return boxed
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def normalise_answer(text: str) -> str:
    text = re.sub(r"\\text\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\\(left|right|!|,|;|:)", "", text)
    text = text.replace("$", "").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    return re.sub(r"\s+", "", text).rstrip(".").lower()


def as_number(text: str) -> Fraction | None:
    text = normalise_answer(text)
    frac = re.fullmatch(r"\\frac\{(-?\d+)\}\{(-?\d+)\}", text)
    if frac:
        text = f"{frac.group(1)}/{frac.group(2)}"
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def answers_match(*, reference: str, candidate: str | None) -> bool:
    if candidate is None:
        return False
    if normalise_answer(reference) == normalise_answer(candidate):
        return True
    a, b = as_number(reference), as_number(candidate)
    if a is None or b is None:
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)


# --- code -----------------------------------------------------------------------------------------------------
def code_tests(sample: SampleText) -> list[str]:
    """assert lines from the instruction (MBPP style), else from the response's code blocks."""
    tests = _ASSERT.findall(sample.instruction)
    if not tests:
        for block in _FENCE.findall(sample.response):
            tests += _ASSERT.findall(block)
    return [t.strip() for t in tests]


def completion_program(completion: str) -> str:
    fenced = _FENCE.search(completion)
    return fenced.group(1) if fenced else completion


# --- generation -----------------------------------------------------------------------------------------------
@inference_mode
def generate_completions(
    *, lm: LoadedCausalLM, prompts: Sequence[list[int]], max_new_tokens: int, num_samples: int, temperature: float,
    seed: int, batch_size: int,
) -> list[list[str]]:
    """``num_samples`` decoded completions per prompt (left-padded batches; greedy when num_samples == 1)."""
    tokenizer = lm.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: list[list[str]] = [[] for _ in prompts]
    for start in range(0, len(prompts), batch_size):
        members = list(range(start, min(start + batch_size, len(prompts))))
        width = max(len(prompts[i]) for i in members)
        input_ids = torch.full((len(members), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(members), width), dtype=torch.long)
        for row, index in enumerate(members):
            input_ids[row, width - len(prompts[index]) :] = torch.tensor(prompts[index])
            attention[row, width - len(prompts[index]) :] = 1
        sampling = (
            {"do_sample": False}
            if num_samples == 1
            else {"do_sample": True, "temperature": temperature, "top_p": 1.0, "top_k": 0}
        )
        torch.manual_seed(seed + start)
        generated = lm.model.generate(
            input_ids=input_ids.to(lm.device), attention_mask=attention.to(lm.device), max_new_tokens=max_new_tokens,
            num_return_sequences=num_samples, pad_token_id=pad_id, **sampling,
        )
        texts = tokenizer.batch_decode(generated[:, width:], skip_special_tokens=True)
        for row, index in enumerate(members):
            out[index] = texts[row * num_samples : (row + 1) * num_samples]
    return out


@register
class FailRate(LanguageModelScorer):
    meta = ScorerMeta(
        name="fail_rate",
        axis="complexity",
        reads="QA",
        raw_range=(0.0, 1.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        description="1 - pass@1 of a reference model (SmolLM2-135M by default) on samples with a verifiable answer: "
        "math (boxed / #### / 'the answer is' in the response, compared after normalisation) and, where code "
        "execution is enabled, code with assert tests. None for samples with no verifiable answer.",
    )
    default_config = {
        **LanguageModelScorer.default_config,
        "kinds": ["math"],
        "max_new_tokens": 384,
        "num_samples": 1,
        "temperature": 0.7,
        "seed": 0,
        "timeout_s": 5.0,
        "math_suffix": "\nPut your final answer within \\boxed{}.",
    }

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        name, kinds = self.meta.name, self.config["kinds"]
        if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
            raise InvalidInput(f"scorer {name!r}: kinds must be a non-empty list of {', '.join(KINDS)}, got {kinds!r}")
        if "code" in kinds:
            require_code_execution(what=f"scorer {name!r} with kinds containing 'code'")
        int_option(scorer=name, name="max_new_tokens", value=self.config["max_new_tokens"], low=1)
        int_option(scorer=name, name="num_samples", value=self.config["num_samples"], low=1)
        int_option(scorer=name, name="seed", value=self.config["seed"], low=0)
        for option, low in (("temperature", 0.0), ("timeout_s", 0.1)):
            value = self.config[option]
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= low:
                raise InvalidInput(f"scorer {name!r}: {option} must be a number > {low}, got {value!r}")
        if not isinstance(self.config["math_suffix"], str):
            raise InvalidInput(f"scorer {name!r}: math_suffix must be a string")

    def task(self, sample: SampleText) -> tuple[str, object] | None:
        """("code", tests) or ("math", reference answer) or None (not verifiable)."""
        if "code" in self.config["kinds"]:
            tests = code_tests(sample)
            if tests:
                return "code", tests
        if "math" in self.config["kinds"]:
            reference = reference_math_answer(sample.response)
            if reference:
                return "math", reference
        return None

    def passes(self, *, task: tuple[str, object], completion: str) -> bool:
        kind, expected = task
        if kind == "math":
            return answers_match(reference=expected, candidate=model_math_answer(completion))
        program = completion_program(completion) + "\n\n" + "\n".join(expected) + "\n"
        return run_python(program=program, timeout_s=float(self.config["timeout_s"])).passed

    def fail_rate(self, *, task: tuple[str, object], completions: Sequence[str]) -> float:
        return 1.0 - sum(self.passes(task=task, completion=c) for c in completions) / len(completions)

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        tasks = [self.task(sample) for sample in samples]
        todo = [i for i, task in enumerate(tasks) if task is not None]
        prompts = []
        for i in todo:
            suffix = self.config["math_suffix"] if tasks[i][0] == "math" else ""
            ids = render_prompt_ids(lm=self.lm, text=samples[i].instruction + suffix, chat_template="auto")
            prompts.append(ids[-self.config["max_length"] :])
        completions = generate_completions(
            lm=self.lm, prompts=prompts, max_new_tokens=self.config["max_new_tokens"],
            num_samples=self.config["num_samples"], temperature=float(self.config["temperature"]),
            seed=self.config["seed"], batch_size=self.config["batch_size"],
        )
        out: list[float | None] = [None] * len(samples)
        for i, texts in zip(todo, completions):
            out[i] = self.fail_rate(task=tasks[i], completions=texts)
        return out
