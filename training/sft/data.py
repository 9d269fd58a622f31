"""SFT examples: render each conversation with the tokenizer's chat template, label assistant tokens only.

The template is rendered turn by turn: the text a turn adds is the difference between rendering the
conversation up to and including it and rendering it up to just before it. For assistant turns the
generation prompt (``<|im_start|>assistant\\n`` and the like) is split off, so only what the assistant
says (and its end-of-turn marker) is learnt; every other token has label -100.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from arena.errors import InvalidInput
from arena.storage import iter_batches

IGNORE_INDEX = -100


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def conversation_of(row: dict) -> list[dict]:
    messages = [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
    if row.get("system") and (not messages or messages[0]["role"] != "system"):
        messages.insert(0, {"role": "system", "content": row["system"]})
    return messages


def _render(tokenizer, messages: list[dict], *, generation_prompt: bool = False) -> str:
    if not messages and not generation_prompt:
        return ""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def _tail(longer: str, shorter: str, *, what: str) -> str:
    if not longer.startswith(shorter):
        raise InvalidInput(
            f"the tokenizer's chat template does not render {what} as an extension of the conversation before it; "
            "assistant-only labels cannot be derived from it"
        )
    return longer[len(shorter):]


def encode_conversation(tokenizer, messages: list[dict], *, max_length: int) -> Example:
    """Token ids and labels (assistant content only) for one conversation, truncated to ``max_length``."""
    ids: list[int] = []
    labels: list[int] = []

    def add(text: str, *, learn: bool) -> None:
        if not text:
            return
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids.extend(piece)
        labels.extend(piece if learn else [IGNORE_INDEX] * len(piece))

    rendered = ""
    for i, message in enumerate(messages):
        upto = _render(tokenizer, messages[: i + 1])
        if message["role"] == "assistant":
            prompt = _render(tokenizer, messages[:i], generation_prompt=True)
            add(_tail(prompt, rendered, what="the generation prompt"), learn=False)
            add(_tail(upto, prompt, what=f"assistant turn {i}"), learn=True)
        else:
            add(_tail(upto, rendered, what=f"{message['role']} turn {i}"), learn=False)
        rendered = upto
    return Example(input_ids=ids[:max_length], labels=labels[:max_length])


def load_examples(*, samples_file: str, tokenizer, max_length: int, max_samples: int | None) -> list[Example]:
    """Encode a dataset's normalised samples (in file order). Samples with nothing left to learn after
    truncation are dropped; a dataset with no trainable sample is an error."""
    examples: list[Example] = []
    for batch in iter_batches(samples_file, columns=["system", "messages"]):
        for row in batch.to_pylist():
            if max_samples is not None and len(examples) >= max_samples:
                break
            example = encode_conversation(tokenizer, conversation_of(row), max_length=max_length)
            if example.trained_tokens:
                examples.append(example)
        if max_samples is not None and len(examples) >= max_samples:
            break
    if not examples:
        raise InvalidInput(
            "the dataset has no sample with assistant tokens inside max_length: nothing to train on"
        )
    return examples


def collate(examples: list[Example], *, pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a micro-batch: input_ids, attention_mask, labels (-100 on padding)."""
    width = max(len(e.input_ids) for e in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}
