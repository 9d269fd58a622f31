"""Unique, Unicode-heavy JSONL for ingest benchmarks, in alpaca or sharegpt form.

    .venv/bin/python bench/ingest_data.py --format sharegpt --mb 100 --out /tmp/sharegpt.jsonl

Every record is different (a serial number plus random words), so no contender profits from
repetition (dictionary encoding, compression); words come from Latin (with accents), Cyrillic,
Greek, CJK, Arabic and emoji vocabularies, written as raw UTF-8 (``ensure_ascii=False``).
"""
from __future__ import annotations

import argparse
import json
import os
import random

_VOCAB = (
    "the model data answer question reason step number value compute explain result because therefore "
    "café naïve résumé über straße façade déjà señor coöperate élève "
    "данные модель ответ вопрос причина шаг число значение объяснить результат "
    "δεδομένα μοντέλο απάντηση ερώτηση λόγος βήμα αριθμός "
    "数据 模型 回答 问题 原因 步骤 数字 计算 解释 结果 因为 所以 学习 训练 "
    "データ モデル 質問 理由 "
    "بيانات نموذج جواب سؤال "
    "🙂 🚀 ✅ 🔥 ∑ ∫ → ≤ ≥ , . ; : ? ! ( ) 42 3.14 2026"
).split()


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(_VOCAB, k=rng.randint(low, high)))


def record(fmt: str, *, serial: int, rng: random.Random) -> dict:
    if fmt == "alpaca":
        return {
            "instruction": f"#{serial} " + _text(rng, 8, 60),
            "input": _text(rng, 5, 40) if rng.random() < 0.3 else "",
            "output": _text(rng, 20, 300),
        }
    if fmt == "sharegpt":
        turns = [{"from": "system", "value": _text(rng, 5, 20)}] if rng.random() < 0.2 else []
        for turn in range(rng.randint(1, 3)):
            turns.append({"from": "human", "value": (f"#{serial}.{turn} " if turn == 0 else "") + _text(rng, 8, 80)})
            turns.append({"from": "gpt", "value": _text(rng, 20, 200)})
        return {"id": f"s{serial}", "conversations": turns}
    raise ValueError(f"unknown format {fmt!r}; expected alpaca or sharegpt")


def generate(path: str, *, fmt: str, target_bytes: int, seed: int = 0) -> int:
    """Write records until the file holds ``target_bytes``; returns the record count."""
    rng = random.Random(seed)
    written = count = 0
    with open(path, "wb") as out:
        while written < target_bytes:
            line = (json.dumps(record(fmt, serial=count, rng=rng), ensure_ascii=False) + "\n").encode("utf-8")
            out.write(line)
            written += len(line)
            count += 1
    return count


def scaled(fmt: str, *, mb: float, copies: int, directory: str | None = None) -> str:
    """A file ``copies`` times the size of ``cached(fmt, mb=mb)``: the same records, each copy's ids and first
    words made unique (for memory measurements at a size the generator would take long to write)."""
    directory = directory or os.environ.get("ARENA_BENCH_DATA", "/tmp/arena-bench-data")
    source = cached(fmt, mb=mb, directory=directory)
    path = os.path.join(directory, f"{fmt}-{mb:g}mb-x{copies}.jsonl")
    if not os.path.exists(path):
        partial = path + ".partial"
        with open(source, "rb") as f:
            data = f.read()
        with open(partial, "wb") as out:
            for copy in range(copies):
                out.write(data.replace(b'": "#', f'": "#{copy}/'.encode()))
        os.replace(partial, path)
    return path


def cached(fmt: str, *, mb: float, directory: str | None = None) -> str:
    """Path to a generated file of about ``mb`` MB (made once, reused by later rounds and runs)."""
    directory = directory or os.environ.get("ARENA_BENCH_DATA", "/tmp/arena-bench-data")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{fmt}-{mb:g}mb.jsonl")
    if not os.path.exists(path):
        partial = path + ".partial"
        generate(partial, fmt=fmt, target_bytes=int(mb * 1_000_000))
        os.replace(partial, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", choices=("alpaca", "sharegpt"), default="alpaca")
    parser.add_argument("--mb", type=float, default=100)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = generate(args.out, fmt=args.format, target_bytes=int(args.mb * 1_000_000), seed=args.seed)
    print(f"{n} records, {os.path.getsize(args.out) / 1e6:.1f} MB -> {args.out}")


if __name__ == "__main__":
    main()
