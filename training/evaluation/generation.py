"""Greedy generation with the chat template, for generation and code benchmarks."""
from __future__ import annotations

from collections.abc import Callable

import torch

from training.evaluation.answers import MATCHERS
from training.evaluation.common import (
    DETAIL_EXAMPLES,
    BenchmarkScore,
    batched,
    chat_prompt,
    check_stop,
    score_from_hits,
)

DEFAULT_MAX_NEW_TOKENS = 256


@torch.no_grad()
def generate(
    *,
    model,
    tokenizer,
    prompts: list[str],
    max_new_tokens: int,
    batch_size: int = 16,
    should_stop: Callable[[], bool] | None = None,
) -> list[str]:
    """Greedy completions of already-rendered prompts (left-padded batches), decoded without special tokens."""
    device = next(model.parameters()).device
    outputs: list[str] = []
    model.eval()
    for chunk in batched(prompts, batch_size):
        check_stop(should_stop)
        encoded = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        generated = model.generate(
            **encoded,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        new_tokens = generated[:, encoded["input_ids"].shape[1]:]
        outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return outputs


def evaluate_generation(
    *,
    model,
    tokenizer,
    items: list[dict],
    metric: str,
    batch_size: int = 16,
    should_stop: Callable[[], bool] | None = None,
) -> BenchmarkScore:
    """Exact-match or numeric-match accuracy. Items: ``prompt``, ``answer``, optional ``max_new_tokens``."""
    if metric not in MATCHERS:
        raise ValueError(f"unknown generation metric {metric!r}; expected one of {', '.join(MATCHERS)}")
    matcher = MATCHERS[metric]
    by_budget: dict[int, list[int]] = {}
    for index, item in enumerate(items):
        by_budget.setdefault(int(item.get("max_new_tokens") or DEFAULT_MAX_NEW_TOKENS), []).append(index)
    predictions: list[str] = [""] * len(items)
    for budget, indices in by_budget.items():
        prompts = [chat_prompt(tokenizer, items[i]["prompt"], system=items[i].get("system", "")) for i in indices]
        texts = generate(
            model=model, tokenizer=tokenizer, prompts=prompts, max_new_tokens=budget, batch_size=batch_size,
            should_stop=should_stop,
        )
        for i, text in zip(indices, texts):
            predictions[i] = text
    hits = [matcher(prediction, item["answer"]) for prediction, item in zip(predictions, items)]
    examples = [
        {"id": item.get("id"), "prediction": prediction[:200], "answer": item["answer"], "correct": hit}
        for item, prediction, hit in list(zip(items, predictions, hits))[:DETAIL_EXAMPLES]
    ]
    return score_from_hits(hits, details={"metric": metric, "examples": examples})
