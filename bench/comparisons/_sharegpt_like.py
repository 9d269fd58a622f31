"""Deterministic ShareGPT-length chat samples for the scorer comparisons (no download, no network).

Real ShareGPT conversations are long, multi-turn, mostly English prose with markdown lists, code blocks and some
non-English turns. The prose here is real English: sentences of the Python standard library's docstrings; the code
is real code: function sources from the standard library. Lengths are log-normal around ShareGPT's: instruction
(everything before the final reply, several turns) median ~700 characters, response median ~1,400 characters.
"""
from __future__ import annotations

import inspect
import math
import random
import re
from functools import lru_cache

_MODULES = (
    "argparse", "collections", "json", "logging", "textwrap", "unittest", "asyncio", "email", "http.client",
    "csv", "decimal", "fractions", "statistics", "pathlib", "subprocess", "threading", "typing", "zipfile",
    "datetime", "calendar", "difflib", "heapq", "functools", "itertools", "random", "shutil", "tarfile",
)
_FOREIGN = (
    "Le modèle apprend à partir des données et il faut vérifier que les réponses sont correctes avant de les "
    "utiliser. Nous avons besoin d'une solution simple pour la production.",
    "Die Antwort ist nicht vollständig, aber sie zeigt, wie man das Problem mit einer Schleife und einer Liste "
    "lösen kann. Wir werden die Ergebnisse später prüfen.",
    "El modelo no es perfecto, pero la respuesta explica los pasos más importantes para resolver el problema con "
    "una función sencilla.",
    "机器学习模型需要大量的数据来训练。我们应该先检查数据的质量，然后再开始训练，这样可以得到更好的结果。",
    "Модель должна отвечать на вопросы пользователя точно и коротко. Сначала проверим данные, а потом начнём "
    "обучение.",
    "このモデルは質問に答えるために訓練されました。データの品質を確認してから学習を始めましょう。",
)


@lru_cache(maxsize=1)
def _corpus() -> tuple[tuple[str, ...], tuple[str, ...]]:
    import importlib

    sentences: list[str] = []
    code: list[str] = []
    for name in _MODULES:
        module = importlib.import_module(name)
        for _, obj in sorted(vars(module).items()):
            doc = inspect.getdoc(obj) if (inspect.isfunction(obj) or inspect.isclass(obj)) else None
            if doc:
                for sentence in re.split(r"(?<=[.!?])\s+", " ".join(doc.split())):
                    if 30 <= len(sentence) <= 300 and sentence[0].isupper():
                        sentences.append(sentence)
            if inspect.isfunction(obj) and getattr(obj, "__module__", "") == module.__name__:
                try:
                    source = inspect.getsource(obj)
                except (OSError, TypeError):
                    continue
                if 80 <= len(source) <= 1500:
                    code.append(source)
    return tuple(sentences), tuple(code)


def _lognormal_chars(rng: random.Random, median: float, sigma: float = 0.8, cap: int = 12_000) -> int:
    return min(int(math.exp(rng.gauss(math.log(median), sigma))), cap)


def _prose(rng: random.Random, n_chars: int, sentences: tuple[str, ...]) -> str:
    parts: list[str] = []
    size = 0
    while size < n_chars:
        roll = rng.random()
        if roll < 0.12:
            item = "\n".join(f"{k + 1}. {rng.choice(sentences)}" for k in range(rng.randint(2, 5)))
        elif roll < 0.2:
            item = "\n".join(f"- **{rng.choice(sentences).split()[0]}**: {rng.choice(sentences)}" for _ in range(3))
        else:
            item = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4)))
        parts.append(item)
        size += len(item) + 2
    return "\n\n".join(parts)


def sharegpt_like(n: int, *, seed: int = 0) -> list[dict]:
    """``n`` samples ``{"instruction", "response", "messages"}``; the same ``n`` and ``seed`` give the same data."""
    sentences, code = _corpus()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        turns = rng.choice((1, 1, 1, 2, 2, 3))
        messages = []
        for turn in range(turns):
            if rng.random() < 0.05:
                question = " ".join(rng.choice(_FOREIGN) for _ in range(rng.randint(1, 3)))
            else:
                question = _prose(rng, _lognormal_chars(rng, 350 if turn == 0 else 150), sentences)
                if rng.random() < 0.3:
                    question += "\n\n```python\n" + rng.choice(code) + "```"
            messages.append({"role": "user", "content": question})
            if rng.random() < 0.05:
                answer = "\n\n".join(rng.choice(_FOREIGN) for _ in range(rng.randint(2, 8)))
            else:
                answer = _prose(rng, _lognormal_chars(rng, 1200), sentences)
                if rng.random() < 0.35:
                    answer += "\n\n```python\n" + rng.choice(code) + "```\n\n" + rng.choice(sentences)
                if rng.random() < 0.1:
                    answer = "<think>" + _prose(rng, _lognormal_chars(rng, 600), sentences) + "</think>\n" + answer
                if rng.random() < 0.03:
                    answer += "\n" + " ".join([rng.choice(sentences)] * rng.randint(3, 12))
            messages.append({"role": "assistant", "content": answer})
        instruction = "\n\n".join(m["content"] for m in messages[:-1])
        out.append({"instruction": instruction, "response": messages[-1]["content"], "messages": messages})
    return out


if __name__ == "__main__":
    import statistics

    data = sharegpt_like(2000)
    for key in ("instruction", "response"):
        lengths = [len(s[key]) for s in data]
        print(key, "median", statistics.median(lengths), "mean", round(statistics.mean(lengths)), "max", max(lengths))
    print(data[3]["response"][:800])
