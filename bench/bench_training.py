"""Training and evaluation throughput of Arena's SFT path, with model FLOPs utilisation on GPUs.

    .venv/bin/python bench/bench_training.py                 # GPU if present: SmolLM2-135M SFT, bf16 + SDPA
    .venv/bin/python bench/bench_training.py --device cpu    # CPU: the tiny demo model (+ SmolLM2 a few steps)
    .venv/bin/python bench/bench_training.py --peak-tflops 312   # MFU against a given bf16 peak

MFU = 6 * N * (training tokens/s) / peak FLOP/s, N = parameter count, tokens = non-padding tokens.
The peak is detected for known GPUs (H100/H200 SXM: 989 TFLOP/s dense bf16) or given with --peak-tflops.
Every figure printed is labelled with the device it was measured on.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import django  # noqa: E402

django.setup()

import torch  # noqa: E402

from training.demo.benchmarks import demo_benchmarks  # noqa: E402
from training.demo.datasets import clean  # noqa: E402
from training.demo.services import TINY_BASE_CONFIG  # noqa: E402
from training.flops import gpu_peak_flops, mfu  # noqa: E402
from training.model_loading import load_model_and_tokenizer, parameter_count, smollm2_gguf_path  # noqa: E402
from training.sft.data import collate, encode_conversation  # noqa: E402


def long_conversations(n: int, *, turns: int) -> list[list[dict]]:
    """Multi-turn conversations from the demo task family, long enough to fill ``max_length``."""
    records = clean(size=n * turns)
    return [
        [m for r in records[i * turns:(i + 1) * turns] for m in r["messages"]]
        for i in range(n)
    ]


def bench_train(*, label, path, device, steps, batch_size, max_length, turns, peak):
    model, tokenizer = load_model_and_tokenizer(path=path, device=device)
    n_params = parameter_count(model)
    examples = [encode_conversation(tokenizer, c, max_length=max_length)
                for c in long_conversations(batch_size * (steps + 2), turns=turns)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device.type == "cuda")
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    model.train()

    def step(batch):
        tensors = {k: v.to(device) for k, v in collate(batch, pad_id=tokenizer.pad_token_id).items()}
        with autocast:
            loss = model(**tensors).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return int(tensors["attention_mask"].sum())

    step(examples[:batch_size])  # warm-up (allocations, kernels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    tokens, started = 0, time.perf_counter()
    for i in range(1, steps + 1):
        tokens += step(examples[i * batch_size:(i + 1) * batch_size])
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    rate = tokens / seconds
    line = (f"[{device.type.upper()}] train {label}: {n_params / 1e6:.2f}M params, {steps} steps x batch {batch_size}, "
            f"{tokens / steps:.0f} tokens/step, {seconds / steps * 1000:.1f} ms/step, {rate:,.0f} tokens/s")
    if peak:
        line += f", MFU {mfu(parameters=n_params, tokens_per_s=rate, peak_flops=peak) * 100:.1f}% of {peak / 1e12:.0f} TFLOP/s"
    print(line, flush=True)
    return model, tokenizer


def bench_eval(*, label, model, tokenizer, device):
    """Evaluation through lm-evaluation-harness (as the jobs run it); bench/bench_eval.py has the options."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_eval import run

    specs = {spec.name: spec for spec in demo_benchmarks(n=100)}
    for name, kind, metric in (("Demo addition", "generation", "numeric_match"), ("Demo comparison", "multiple_choice", "accuracy")):
        figures = run(model=model, tokenizer=tokenizer, kind_name=kind, metric=metric, items=specs[name].items,
                      max_gen_toks=8, batch_size=16)
        print(f"[{device.type.upper()}] eval {label} on {name} ({kind}, lm-eval): {figures['items_per_s']:,.1f} items/s",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--peak-tflops", type=float, default=None, help="bf16 dense peak of the GPU, TFLOP/s")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--no-smollm2", action="store_true", help="skip SmolLM2-135M")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    torch.set_num_threads(args.threads)
    peak = args.peak_tflops * 1e12 if args.peak_tflops else None
    if device.type == "cuda" and peak is None:
        peak = gpu_peak_flops(torch.cuda.get_device_name(device))
        print(f"GPU: {torch.cuda.get_device_name(device)}, bf16 peak {peak / 1e12 if peak else 'unknown (pass --peak-tflops)'}"
              " TFLOP/s")
    else:
        print(f"device: {device} ({args.threads} torch thread(s)); MFU only reported on GPUs or with --peak-tflops")

    tiny = "tiny:" + __import__("json").dumps(TINY_BASE_CONFIG)
    model, tokenizer = bench_train(label="tiny demo model", path=tiny, device=device, steps=args.steps or 40,
                                   batch_size=16, max_length=64, turns=1, peak=peak)
    bench_eval(label="tiny demo model", model=model, tokenizer=tokenizer, device=device)
    if args.no_smollm2:
        return
    smol = "gguf:" + smollm2_gguf_path()
    if device.type == "cuda":
        model, tokenizer = bench_train(label="SmolLM2-135M SFT", path=smol, device=device, steps=args.steps or 30,
                                       batch_size=16, max_length=1024, turns=60, peak=peak)
    else:
        model, tokenizer = bench_train(label="SmolLM2-135M SFT", path=smol, device=device, steps=args.steps or 3,
                                       batch_size=2, max_length=256, turns=15, peak=peak)
    bench_eval(label="SmolLM2-135M", model=model, tokenizer=tokenizer, device=device)


if __name__ == "__main__":
    main()
