"""Multiple choice by log-likelihood: the choice whose continuation the model finds most likely wins."""
from __future__ import annotations

from collections.abc import Callable

import torch

from training.evaluation.common import DETAIL_EXAMPLES, BenchmarkScore, batched, chat_prompt, check_stop, score_from_hits


@torch.no_grad()
def continuation_logprobs(*, model, tokenizer, pairs: list[tuple[str, str]], batch_size: int = 32) -> list[float]:
    """Sum of log p(continuation tokens | context) for each (context, continuation) pair."""
    device = next(model.parameters()).device
    encoded = []
    for context, continuation in pairs:
        context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
        continuation_ids = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        if not continuation_ids:
            raise ValueError(f"choice {continuation!r} encodes to no token")
        encoded.append((context_ids, continuation_ids))
    scores: list[float] = []
    model.eval()
    pad = tokenizer.pad_token_id
    for chunk in batched(encoded, batch_size):
        width = max(len(c) + len(k) for c, k in chunk)
        input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (c, k) in enumerate(chunk):
            ids = c + k
            input_ids[row, :len(ids)] = torch.tensor(ids)
            mask[row, :len(ids)] = 1
        logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits.float()
        logprobs = torch.log_softmax(logits, dim=-1).cpu()
        for row, (c, k) in enumerate(chunk):
            positions = torch.arange(len(c) - 1, len(c) + len(k) - 1)
            targets = torch.tensor(k)
            scores.append(float(logprobs[row, positions, targets].sum()))
    return scores


def evaluate_multiple_choice(
    *,
    model,
    tokenizer,
    items: list[dict],
    batch_size: int = 32,
    should_stop: Callable[[], bool] | None = None,
) -> BenchmarkScore:
    """Accuracy. Items: ``prompt``, ``choices`` (list of strings), ``answer_index``."""
    hits: list[bool] = []
    examples = []
    for chunk in batched(items, max(batch_size // 2, 1)):
        check_stop(should_stop)
        pairs, owners = [], []
        for n, item in enumerate(chunk):
            context = chat_prompt(tokenizer, item["prompt"], system=item.get("system", ""))
            for choice in item["choices"]:
                pairs.append((context, str(choice)))
                owners.append(n)
        scores = continuation_logprobs(model=model, tokenizer=tokenizer, pairs=pairs, batch_size=batch_size)
        for n, item in enumerate(chunk):
            mine = [s for s, owner in zip(scores, owners) if owner == n]
            chosen = max(range(len(mine)), key=mine.__getitem__)
            hit = chosen == int(item["answer_index"])
            hits.append(hit)
            if len(examples) < DETAIL_EXAMPLES:
                examples.append({"id": item.get("id"), "chosen": chosen, "answer_index": item["answer_index"],
                                 "logprobs": [round(s, 3) for s in mine], "correct": hit})
    return score_from_hits(hits, details={"metric": "accuracy", "examples": examples})
