"""Language-model scorers: perplexity of the answer with and without the question, and IFD.

Definitions (natural log; ``a_1..a_m`` are the answer's tokens, tokenised on their own):

* ``loss_a_given_q`` = mean over answer tokens of -log p(a_i | prompt(Q), a_<i)
* ``ppl_qa`` = PPL(A|Q) = exp(loss_a_given_q)
* ``ppl_a`` = PPL(A) = exp(mean -log p(a_i | start, a_<i)), ``start`` = the tokenizer's BOS token (EOS when it has none)
* ``ifd`` = PPL(A|Q) / PPL(A), the Instruction-Following Difficulty of Cherry-LLM (Li et al., 2024)
* ``ifd_misaligned`` = 1.0 where IFD > 1 (the instruction makes the answer *less* predictable), else 0.0

prompt(Q) is the tokenizer's chat template applied to [system?, user=Q] with the generation prompt when the
tokenizer has a chat template; otherwise ``start`` + "system\\n\\nQ\\n\\n" (plain concatenation). Only the answer
tokens are scored, and both perplexities score exactly the same answer tokens, so their ratio is meaningful. The
end-of-turn token is not scored (as in Cherry-LLM). Multi-turn samples are scored on their (instruction, response).

``max_length`` bounds the scored sequence: the answer keeps at least half of it (more when the prompt is shorter),
the prompt keeps its last tokens (the part next to the answer); answer tokens beyond are not scored.

Several of these scorers over the same samples share one forward pass per sample and kind (with Q / without Q)
through a bounded per-process cache keyed by model identity, max_length and the sample's text.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from arena.errors import InvalidInput
from arena.model_loading.loaders import LoadedCausalLM, causal_lm_identity, load_causal_lm
from arena.model_loading.locate import check_model_dir
from scoring.scorers.base import LazyModule, SampleText, Scorer, ScorerMeta, inference_mode, register

torch = LazyModule("torch")  # imported on first use: see LazyModule

Kind = Literal["qa", "a"]
LOSS_CACHE_MAX_ENTRIES = 200_000
HEAD_CHUNK_ROWS = 512  # answer positions sent through the LM head at once (bounds the logits' memory)

_CACHE_LOCK = threading.Lock()
_LOSS_CACHE: OrderedDict[tuple, tuple[float, int]] = OrderedDict()
_HEAD_CHECKED: set[str] = set()


@dataclass(frozen=True)
class ScoredSequence:
    """Token ids with the answer at the end: the loss is taken over ids[context_len:]."""

    ids: list[int]
    context_len: int


# --- tokenisation ----------------------------------------------------------------
def start_ids(*, lm: LoadedCausalLM) -> list[int]:
    tokenizer = lm.tokenizer
    for token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return [int(token_id)]
    raise InvalidInput("the scoring LM's tokenizer has neither a BOS nor an EOS token to start PPL(A) from")


def prompt_text(*, lm: LoadedCausalLM, sample: SampleText) -> tuple[list[int], str]:
    """The prompt as (ids to put first, text to tokenise after them without special tokens)."""
    tokenizer = lm.tokenizer
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": sample.system}] if sample.system else []
        messages.append({"role": "user", "content": sample.instruction})
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception as exc:  # jinja raises its own errors, e.g. for a system role the template refuses
            raise InvalidInput(f"the scoring LM's chat template cannot render sample {sample.idx}: {exc}") from exc
        return [], text
    parts = [part for part in (sample.system, sample.instruction) if part]
    return start_ids(lm=lm), "\n\n".join(parts) + "\n\n" if parts else ""


def prompt_ids(*, lm: LoadedCausalLM, sample: SampleText) -> list[int]:
    first, text = prompt_text(lm=lm, sample=sample)
    return first + list(lm.tokenizer(text, add_special_tokens=False)["input_ids"])


def scored_sequence(*, lm: LoadedCausalLM, sample: SampleText, kind: Kind, max_length: int) -> ScoredSequence | None:
    """The sequence to score for one sample, or None when the answer has no tokens (the score is undefined)."""
    return scored_sequences(lm=lm, samples=[sample], kind=kind, max_length=max_length)[0]


def scored_sequences(
    *, lm: LoadedCausalLM, samples: Sequence[SampleText], kind: Kind, max_length: int
) -> list[ScoredSequence | None]:
    """``scored_sequence`` of every sample, with the answers and the prompts each tokenised in one batched call."""
    if not samples:
        return []
    answers = lm.tokenizer([sample.response for sample in samples], add_special_tokens=False)["input_ids"]
    scored = [i for i, answer in enumerate(answers) if answer]  # no answer token: no score, no prompt needed
    prompts = [prompt_text(lm=lm, sample=samples[i]) for i in scored]
    tails = lm.tokenizer([text for _, text in prompts], add_special_tokens=False)["input_ids"] if scored else []
    out: list[ScoredSequence | None] = [None] * len(samples)
    for i, (first, _), tail in zip(scored, prompts, tails):
        out[i] = _sequence(lm=lm, answer=list(answers[i]), prompt=first + list(tail), kind=kind, max_length=max_length)
    return out


def _sequence(
    *, lm: LoadedCausalLM, answer: list[int], prompt: list[int], kind: Kind, max_length: int
) -> ScoredSequence:
    """The scored sequence from a non-empty answer's ids and the full prompt's ids (truncation rule: module doc)."""
    answer_keep = min(len(answer), max_length - min(len(prompt), max_length // 2))
    answer = answer[:answer_keep]
    if kind == "a":
        return ScoredSequence(ids=start_ids(lm=lm) + answer, context_len=1)
    prompt = prompt[len(prompt) - min(len(prompt), max_length - answer_keep) :]
    return ScoredSequence(ids=prompt + answer, context_len=len(prompt))


# --- forward -----------------------------------------------------------------------
def logits_from_hidden(*, lm: LoadedCausalLM, hidden: torch.Tensor) -> torch.Tensor:
    return lm.model.get_output_embeddings()(hidden).float()


@inference_mode
def check_lm_head_path(*, lm: LoadedCausalLM) -> None:
    """The scorers run the base model and apply the LM head only at answer positions (full-vocabulary logits for
    every position would not fit in memory). Check once per model that this equals the model's own forward, so
    a model that post-processes its logits (soft-capping, scaling) is refused instead of mis-scored."""
    if lm.identity_key in _HEAD_CHECKED:
        return
    vocab = int(lm.model.get_output_embeddings().weight.shape[0])
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, min(vocab, 1000), (1, 12), generator=generator).to(lm.device)
    full = lm.model(input_ids=ids, use_cache=False).logits.float()
    hidden = lm.model.base_model(input_ids=ids, use_cache=False).last_hidden_state
    mine = logits_from_hidden(lm=lm, hidden=hidden)
    if not torch.allclose(full, mine, atol=1e-3, rtol=1e-3):
        raise InvalidInput(
            f"the scoring LM {lm.identity} post-processes its logits beyond the LM head; "
            "the perplexity scorers do not support it"
        )
    _HEAD_CHECKED.add(lm.identity_key)


def token_nll(logprobs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """-log p(target) per answer position."""
    return -logprobs.gather(1, targets.unsqueeze(1)).squeeze(1)


TokenValue = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]


@inference_mode
def answer_token_values(
    *, lm: LoadedCausalLM, sequences: Sequence[ScoredSequence], batch_size: int, token_value: TokenValue = token_nll
) -> list[tuple[float, int]]:
    """(sum over answer tokens of ``token_value(log-probabilities, target)``, number of answer tokens) per sequence,
    batched with right padding and attention masks (longest first, so batches hold similar lengths). Only answer
    positions go through the LM head, ``HEAD_CHUNK_ROWS`` at a time."""
    check_lm_head_path(lm=lm)
    pad_id = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i].ids))
    results: list[tuple[float, int]] = [(0.0, 0)] * len(sequences)
    for start in range(0, len(order), batch_size):
        members = order[start : start + batch_size]
        width = max(len(sequences[i].ids) for i in members)
        input_ids = torch.full((len(members), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(members), width), dtype=torch.long)
        rows, positions, targets = [], [], []
        for row, index in enumerate(members):
            seq = sequences[index]
            input_ids[row, : len(seq.ids)] = torch.tensor(seq.ids, dtype=torch.long)
            attention[row, : len(seq.ids)] = 1
            for pos in range(seq.context_len, len(seq.ids)):  # token at pos is predicted from position pos - 1
                rows.append(row)
                positions.append(pos - 1)
                targets.append(seq.ids[pos])
        hidden = lm.model.base_model(
            input_ids=input_ids.to(lm.device), attention_mask=attention.to(lm.device), use_cache=False
        ).last_hidden_state
        picked = hidden[torch.tensor(rows, device=lm.device), torch.tensor(positions, device=lm.device)]
        target = torch.tensor(targets, device=lm.device)
        values = torch.empty(len(targets), dtype=torch.float64)
        for chunk in range(0, len(targets), HEAD_CHUNK_ROWS):
            logits = logits_from_hidden(lm=lm, hidden=picked[chunk : chunk + HEAD_CHUNK_ROWS])
            logprobs = torch.log_softmax(logits, dim=-1)
            chunk_values = token_value(logprobs, target[chunk : chunk + HEAD_CHUNK_ROWS])
            values[chunk : chunk + len(chunk_values)] = chunk_values.double().cpu()
        row_of = torch.tensor(rows)
        for row, index in enumerate(members):
            selected = values[row_of == row]
            results[index] = (float(selected.sum()), int(selected.numel()))
    return results


def answer_nll(*, lm: LoadedCausalLM, sequences: Sequence[ScoredSequence], batch_size: int) -> list[tuple[float, int]]:
    """(sum of answer-token NLL, number of answer tokens) per sequence."""
    return answer_token_values(lm=lm, sequences=sequences, batch_size=batch_size, token_value=token_nll)


# --- per-process cache of per-sample losses -------------------------------------------------
def _sample_key(sample: SampleText) -> str:
    payload = json.dumps([sample.system, sample.instruction, sample.response], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def mean_answer_nll(
    *, lm: LoadedCausalLM, samples: Sequence[SampleText], kind: Kind, max_length: int, batch_size: int
) -> list[float | None]:
    """Mean answer-token NLL per sample (None where the answer has no tokens), computing only cache misses."""
    keys = [(lm.identity_key, kind, max_length, _sample_key(sample)) for sample in samples]
    with _CACHE_LOCK:
        cached = {key: _LOSS_CACHE[key] for key in keys if key in _LOSS_CACHE}
    todo: dict[tuple, SampleText] = {}
    for key, sample in zip(keys, samples):
        if key not in cached and key not in todo:
            todo[key] = sample
    missing = dict(zip(todo, scored_sequences(lm=lm, samples=list(todo.values()), kind=kind, max_length=max_length)))
    to_run = [(key, seq) for key, seq in missing.items() if seq is not None]
    computed = answer_nll(lm=lm, sequences=[seq for _, seq in to_run], batch_size=batch_size)
    fresh = {key: value for (key, _), value in zip(to_run, computed)}
    fresh.update({key: (0.0, 0) for key, seq in missing.items() if seq is None})
    with _CACHE_LOCK:
        for key, value in fresh.items():
            _LOSS_CACHE[key] = value
            _LOSS_CACHE.move_to_end(key)
        while len(_LOSS_CACHE) > LOSS_CACHE_MAX_ENTRIES:
            _LOSS_CACHE.popitem(last=False)
    merged = {**cached, **fresh}
    return [merged[key][0] / merged[key][1] if merged[key][1] else None for key in keys]


def clear_loss_cache() -> None:
    with _CACHE_LOCK:
        _LOSS_CACHE.clear()


# --- scorers ---------------------------------------------------------------------
class LanguageModelScorer(Scorer):
    default_config = {"model_path": "", "max_length": 1024, "batch_size": 8}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        model_path, max_length, batch_size = (self.config[k] for k in ("model_path", "max_length", "batch_size"))
        if not isinstance(model_path, str):
            raise InvalidInput(f"scorer {self.meta.name!r}: model_path must be a string path, got {model_path!r}")
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 8:
            raise InvalidInput(f"scorer {self.meta.name!r}: max_length must be an integer >= 8, got {max_length!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise InvalidInput(f"scorer {self.meta.name!r}: batch_size must be an integer >= 1, got {batch_size!r}")
        if model_path:
            check_model_dir(path=model_path)  # fail at configuration time, not after queueing a run
        self._lm: LoadedCausalLM | None = None

    @property
    def lm(self) -> LoadedCausalLM:
        if self._lm is None:
            self._lm = load_causal_lm(model_path=self.config["model_path"])
        return self._lm

    def model_identity(self) -> dict:
        return causal_lm_identity(model_path=self.config["model_path"])  # does not load the model

    def mean_nll(self, samples: Sequence[SampleText], *, kind: Kind) -> list[float | None]:
        return mean_answer_nll(
            lm=self.lm,
            samples=samples,
            kind=kind,
            max_length=self.config["max_length"],
            batch_size=self.config["batch_size"],
        )

    def ifd_values(self, samples: Sequence[SampleText]) -> list[float | None]:
        with_q = self.mean_nll(samples, kind="qa")
        alone = self.mean_nll(samples, kind="a")
        return [None if q is None or a is None else math.exp(q - a) for q, a in zip(with_q, alone)]

    def close(self) -> None:
        self._lm = None  # the model itself stays in the per-process cache for the next scorer


@register
class AnswerPerplexityGivenQuestion(LanguageModelScorer):
    meta = ScorerMeta(
        name="ppl_qa",
        axis="quality",
        reads="QA",
        raw_range=(1.0, 1000.0),
        higher_is_better=False,
        needs_model=True,
        version="1",
        transform="log",
        description="Perplexity of the answer given the question, PPL(A|Q), under a small causal LM (SmolLM2-135M "
        "by default); loss on answer tokens only. Low = fluent, expected answer; very high = noisy or garbled.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [None if v is None else math.exp(v) for v in self.mean_nll(samples, kind="qa")]


@register
class AnswerPerplexity(LanguageModelScorer):
    meta = ScorerMeta(
        name="ppl_a",
        axis="quality",
        reads="A",
        raw_range=(1.0, 1000.0),
        higher_is_better=False,
        needs_model=True,
        version="1",
        transform="log",
        description="Perplexity of the answer alone, PPL(A), under a small causal LM. Low = fluent text.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [None if v is None else math.exp(v) for v in self.mean_nll(samples, kind="a")]


@register
class AnswerLossGivenQuestion(LanguageModelScorer):
    meta = ScorerMeta(
        name="loss_a_given_q",
        axis="quality",
        reads="QA",
        raw_range=(0.0, 10.0),
        higher_is_better=False,
        needs_model=True,
        version="1",
        unit="nats/token",
        description="Mean NLL per answer token given the question (log of ppl_qa), under a small causal LM.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return self.mean_nll(samples, kind="qa")


@register
class InstructionFollowingDifficulty(LanguageModelScorer):
    meta = ScorerMeta(
        name="ifd",
        axis="complexity",
        reads="QA",
        raw_range=(0.0, 1.5),
        higher_is_better=True,
        needs_model=True,
        version="1",
        description="Instruction-Following Difficulty (Cherry-LLM): PPL(A|Q)/PPL(A). Near 0: the question makes the "
        "answer easy to predict; near 1: the question helps little, i.e. a hard, valuable instruction. Above 1 the "
        "question makes the answer LESS predictable (misaligned pair; Cherry-LLM discards these) -- the normalised "
        "value still rises up to 1.5, so read it together with ifd_misaligned.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return self.ifd_values(samples)


@register
class InstructionMisaligned(LanguageModelScorer):
    meta = ScorerMeta(
        name="ifd_misaligned",
        axis="quality",
        reads="QA",
        raw_range=(0.0, 1.0),
        higher_is_better=False,
        needs_model=True,
        version="1",
        description="1.0 where IFD > 1 (the question makes the answer less predictable: likely a mismatched or "
        "unhelpful instruction), else 0.0; the dataset mean is the share of such samples.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [None if v is None else float(v > 1.0) for v in self.ifd_values(samples)]
