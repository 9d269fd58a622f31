"""Prompted ratings with any local causal LM: the expected rating from next-token probabilities, and the thinking
probability.

Expected rating (Deita's scorers, Liu et al. 2024; AskLLM, Sachdeva et al. 2024): the sample is written into a
prompt template that asks for a rating; one forward pass gives the next-token distribution after the prompt;
restricted to the rating tokens ("1".."6", or "yes"/"no") and renormalised, it weighs the rating values:
``score = sum_k p_k * value_k`` (an expectation, not the argmax, so scores are continuous). Each rating label must be
one token in the model's vocabulary right after the prompt (checked once per model; a bad label is refused).

The prompt is rendered with the model's chat template (user turn = the filled template, then the assistant turn is
opened) when ``chat_template`` is "auto" and the tokenizer has one, or "on"; otherwise the filled template is the raw
prompt after BOS (how Deita's own fine-tuned scorers are used). SmolLM2-135M-Instruct is the default model
(``model_path`` / ``ARENA_SCORING_LM_PATH`` name another); a small general model gives a rough signal, a dedicated
scorer model (e.g. hkust-nlp/deita-complexity-scorer, downloaded by you into a local directory) the published one.

Thinking probability (AdaptThink; OpenDataArena's ThinkingProb): ``1 - P(think_close | prompt + think_open)``, the
probability that the model does NOT close its reasoning block immediately, i.e. chooses to think. The marker may be
several tokens: its probability is the product of its tokens' conditional probabilities (teacher forcing).
``think_open`` ("<think>\\n") is appended after the assistant turn opens unless the chat template already ends so.
"""
from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import replace

from arena.errors import InvalidInput
from arena.model_loading.loaders import LoadedCausalLM
from scoring.scorers.base import LazyModule, SampleText, ScorerMeta, inference_mode, register
from scoring.scorers.perplexity import (
    LanguageModelScorer,
    ScoredSequence,
    logits_from_hidden,
    answer_nll,
    check_lm_head_path,
    start_ids,
)

torch = LazyModule("torch")  # imported on first use: see LazyModule


CHAT_TEMPLATE_CHOICES = ("auto", "on", "off")
FIELDS = ("instruction", "response", "system")

DEITA_COMPLEXITY_TEMPLATE = (
    "You are a helpful assistant. Please identify the complexity score of the following user query. \n"
    "##Query: {instruction}  \n##Complexity: "
)
DEITA_QUALITY_TEMPLATE = (
    "You are a helpful assistant. Please identify the quality score of the Response corresponding to the Question. \n"
    " #Question#:\n{instruction}\n#Response#:\n{response} \n##Quality: "
)
ASKLLM_TEMPLATE = (
    "###\n{instruction}\n\n{response}\n###\n\n"
    "Does the text between ### and ### contain informative signal for training a large language model? An "
    "informative sample is well formatted, holds usable knowledge of the world or a useful skill, and has NO harmful, "
    "racist or sexist content.\n\nOPTIONS:\n- yes\n- no\n\nAnswer yes or no: "
)
SIX_RATINGS = ["1", "2", "3", "4", "5", "6"]


def template_fields(*, scorer: str, template: object) -> set[str]:
    """The placeholders of a template, or InvalidInput naming what is wrong."""
    if not isinstance(template, str) or not template.strip():
        raise InvalidInput(f"scorer {scorer!r}: template must be a non-empty string")
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise InvalidInput(f"scorer {scorer!r}: template is not a valid format string: {exc}") from exc
    unknown = fields - set(FIELDS)
    if unknown or "instruction" not in fields:
        raise InvalidInput(
            f"scorer {scorer!r}: template must contain {{instruction}} and may use only "
            f"{', '.join('{' + f + '}' for f in FIELDS)}; got {', '.join(sorted(fields)) or 'no placeholder'}"
        )
    return fields


def render_prompt_ids(*, lm: LoadedCausalLM, text: str, chat_template: str, assistant_prefix: str = "") -> list[int]:
    """Token ids of the prompt: the text as a user turn of the chat template with the assistant turn opened (plus
    ``assistant_prefix`` unless the rendering already ends with it), or BOS + the raw text."""
    tokenizer = lm.tokenizer
    use_template = chat_template == "on" or (chat_template == "auto" and getattr(tokenizer, "chat_template", None))
    if use_template:
        if not getattr(tokenizer, "chat_template", None):
            raise InvalidInput("chat_template is 'on' but the rating model's tokenizer has no chat template")
        rendered = tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
        )
        if assistant_prefix and not rendered.endswith(assistant_prefix):
            rendered += assistant_prefix
        return list(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    return start_ids(lm=lm) + list(tokenizer(text + assistant_prefix, add_special_tokens=False)["input_ids"])


def rating_token_ids(*, lm: LoadedCausalLM, prompt_text: str, labels: Sequence[str], chat_template: str) -> list[int]:
    """The one token of each label as it follows the prompt (tokenised in context, so "1" after "Complexity: " is
    the token the model would write), or InvalidInput for a label that is not exactly one token."""
    prompt = render_prompt_ids(lm=lm, text=prompt_text, chat_template=chat_template)
    ids = []
    for label in labels:
        alone = list(lm.tokenizer(label, add_special_tokens=False)["input_ids"])
        if len(alone) == 1:
            ids.append(alone[0])
            continue
        joined = render_prompt_ids(lm=lm, text=prompt_text, chat_template=chat_template, assistant_prefix=label)
        if joined[: len(prompt)] == prompt and len(joined) == len(prompt) + 1:
            ids.append(joined[-1])
            continue
        raise InvalidInput(
            f"rating label {label!r} is {len(alone)} tokens for this model; each label must be one token"
        )
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"rating labels {list(labels)} map to repeated tokens for this model")
    return ids


@inference_mode
def next_token_logprobs(
    *, lm: LoadedCausalLM, prompts: Sequence[list[int]], token_ids: Sequence[int], batch_size: int
) -> torch.Tensor:
    """float64 (len(prompts), len(token_ids)): log p(token | prompt) over the FULL vocabulary, at each prompt's
    end. Right-padded batches; only the last position of each prompt goes through the LM head."""
    check_lm_head_path(lm=lm)
    pad_id = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    wanted = torch.tensor(list(token_ids), device=lm.device)
    out = torch.empty((len(prompts), len(token_ids)), dtype=torch.float64)
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    for start in range(0, len(order), batch_size):
        members = order[start : start + batch_size]
        width = max(len(prompts[i]) for i in members)
        input_ids = torch.full((len(members), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(members), width), dtype=torch.long)
        for row, index in enumerate(members):
            input_ids[row, : len(prompts[index])] = torch.tensor(prompts[index], dtype=torch.long)
            attention[row, : len(prompts[index])] = 1
        hidden = lm.model.base_model(
            input_ids=input_ids.to(lm.device), attention_mask=attention.to(lm.device), use_cache=False
        ).last_hidden_state
        last = torch.tensor([len(prompts[i]) - 1 for i in members], device=lm.device)
        logits = logits_from_hidden(lm=lm, hidden=hidden[torch.arange(len(members), device=lm.device), last])
        out[members] = torch.log_softmax(logits, dim=-1)[:, wanted].double().cpu()
    return out


def expected_ratings(*, logprobs: torch.Tensor, values: Sequence[float]) -> list[float]:
    """sum_k softmax over the rating tokens * value_k, per row."""
    weights = torch.softmax(logprobs, dim=-1)
    return [float(v) for v in weights @ torch.tensor(list(values), dtype=torch.float64)]


def _fill(template: str, sample: SampleText) -> str:
    return template.format(instruction=sample.instruction, response=sample.response, system=sample.system)


class RatingScorer(LanguageModelScorer):
    """Expected rating from a template; subclasses fix the template, labels and values as defaults."""

    default_config = {
        **LanguageModelScorer.default_config,
        "template": "",
        "ratings": [],
        "values": None,
        "chat_template": "auto",
    }

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        name = self.meta.name
        fields = template_fields(scorer=name, template=self.config["template"])
        ratings, values = self.config["ratings"], self.config["values"]
        if not isinstance(ratings, list) or len(ratings) < 2 or not all(isinstance(r, str) and r for r in ratings):
            raise InvalidInput(
                f"scorer {name!r}: ratings must be a list of at least 2 non-empty strings, got {ratings!r}"
            )
        if values is None:
            values = [float(r) if _is_number(r) else float(i) for i, r in enumerate(ratings)]
        if (
            not isinstance(values, list)
            or len(values) != len(ratings)
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in values)
        ):
            raise InvalidInput(f"scorer {name!r}: values must be a list of {len(ratings)} numbers (one per rating)")
        if self.config["chat_template"] not in CHAT_TEMPLATE_CHOICES:
            raise InvalidInput(f"scorer {name!r}: chat_template must be one of {', '.join(CHAT_TEMPLATE_CHOICES)}")
        if len(set(values)) < 2:
            raise InvalidInput(f"scorer {name!r}: values must not all be equal")
        self.values = [float(v) for v in values]
        reads = "QA" if "response" in fields else "Q"
        low, high = min(self.values), max(self.values)
        self.meta = replace(type(self).meta, reads=reads, raw_range=(low, high))
        self._token_ids: list[int] | None = None

    def token_ids(self) -> list[int]:
        if self._token_ids is None:
            example = _fill(self.config["template"], SampleText(idx=0, instruction="x", response="y", system=""))
            self._token_ids = rating_token_ids(
                lm=self.lm,
                prompt_text=example,
                labels=self.config["ratings"],
                chat_template=self.config["chat_template"],
            )
        return self._token_ids

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        ids = self.token_ids()
        prompts = [self.prompt(sample) for sample in samples]
        logprobs = next_token_logprobs(lm=self.lm, prompts=prompts, token_ids=ids, batch_size=self.config["batch_size"])
        return expected_ratings(logprobs=logprobs, values=self.values)

    def prompt(self, sample: SampleText) -> list[int]:
        text = _fill(self.config["template"], sample)
        ids = render_prompt_ids(lm=self.lm, text=text, chat_template=self.config["chat_template"])
        return ids[-self.config["max_length"] :]  # keep the end: the question the next token answers


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rating_meta(name: str, axis: str, reads: str, raw_range: tuple[float, float], description: str) -> ScorerMeta:
    return ScorerMeta(
        name=name, axis=axis, reads=reads, raw_range=raw_range, higher_is_better=True, needs_model=True,
        version="1", description=description,
    )


@register
class PromptedRating(RatingScorer):
    meta = _rating_meta(
        "prompted_rating", "quality", "QA", (1.0, 6.0),
        "Expected rating sum_k p(label_k) * value_k from a local causal LM's next-token probabilities, with your "
        "template ({instruction}, {response}, {system}) and rating labels (one token each); the declared range is "
        "the values' min and max.",
    )


@register
class DeitaComplexity(RatingScorer):
    meta = _rating_meta(
        "deita_complexity", "complexity", "Q", (1.0, 6.0),
        "Deita complexity (Liu et al., 2024): the expected 1-6 rating of the instruction's complexity from the "
        "next-token probabilities of a local causal LM (SmolLM2-135M by default; a Deita scorer model if you "
        "provide one) on Deita's complexity prompt.",
    )
    default_config = {**RatingScorer.default_config, "template": DEITA_COMPLEXITY_TEMPLATE, "ratings": SIX_RATINGS}


@register
class DeitaQuality(RatingScorer):
    meta = _rating_meta(
        "deita_quality", "quality", "QA", (1.0, 6.0),
        "Deita quality (Liu et al., 2024): the expected 1-6 rating of the response's quality for the instruction, "
        "from a local causal LM's next-token probabilities on Deita's quality prompt.",
    )
    default_config = {**RatingScorer.default_config, "template": DEITA_QUALITY_TEMPLATE, "ratings": SIX_RATINGS}


@register
class AskLLM(RatingScorer):
    meta = _rating_meta(
        "askllm", "quality", "QA", (0.0, 1.0),
        "AskLLM (Sachdeva et al., 2024): P(yes) / (P(yes) + P(no)) that a local causal LM answers 'yes' when asked "
        "whether the sample is informative, well-formed, harmless training data.",
    )
    default_config = {
        **RatingScorer.default_config, "template": ASKLLM_TEMPLATE, "ratings": ["yes", "no"], "values": [1.0, 0.0],
    }


@register
class ThinkingProbability(LanguageModelScorer):
    meta = ScorerMeta(
        name="thinking_probability",
        axis="reasoning",
        reads="Q",
        raw_range=(0.0, 1.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        description="1 - P(</think> right after <think>) for the instruction, under a local causal LM with a chat "
        "template: the probability the model chooses to reason (AdaptThink-style models give a calibrated "
        "difficulty; SmolLM2, the default, only a rough one).",
    )
    default_config = {**LanguageModelScorer.default_config, "think_open": "<think>\n", "think_close": "</think>"}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        for option in ("think_open", "think_close"):
            if not isinstance(self.config[option], str):
                raise InvalidInput(f"scorer 'thinking_probability': {option} must be a string")
        if not self.config["think_close"]:
            raise InvalidInput("scorer 'thinking_probability': think_close must not be empty")

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        close = list(self.lm.tokenizer(self.config["think_close"], add_special_tokens=False)["input_ids"])
        sequences = []
        for sample in samples:
            prompt = render_prompt_ids(
                lm=self.lm, text=sample.instruction, chat_template="auto", assistant_prefix=self.config["think_open"]
            )[-(self.config["max_length"] - len(close)) :]
            sequences.append(ScoredSequence(ids=prompt + close, context_len=len(prompt)))
        nll = answer_nll(lm=self.lm, sequences=sequences, batch_size=self.config["batch_size"])
        return [1.0 - math.exp(-total) for total, _ in nll]
