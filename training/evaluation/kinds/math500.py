"""MATH-500 (the PRM800K subset of Hendrycks' MATH): zero-shot, answer in ``\\boxed{}``, normalised string match.

Columns as ``HuggingFaceH4/MATH-500``: ``problem``, ``answer`` (plus ``solution``, ``subject``, ``level``).
Equivalence is Hendrycks' string normalisation (``\\dfrac``->``\\frac``, no spaces, units and ``\\left``/``\\right``
dropped ...) plus numeric equality; it is not a symbolic (sympy / math-verify) check, so it undercounts answers
written in an unusual but equivalent form.
"""
from __future__ import annotations

import re

from training.evaluation.kinds.base import BenchmarkKind, Fn, TaskOptions, need_answer, need_str, register

PROMPT = "Problem:\n{{problem}}\n\nSolve the problem step by step and put the final answer in \\boxed{}.\n\nSolution:"


@register
class MATH500(BenchmarkKind):
    name = "math500"
    title = "MATH-500, exact match of the boxed answer"
    domain = "math"
    metrics = {"exact_match": "exact_match,none"}
    columns = ("problem: str", "answer: str", "solution (optional)")
    output_type = "generate_until"
    max_gen_toks = 1024

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "problem", where=where, kind=self.name)
        need_answer(item, "answer", where=where, kind=self.name)

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["problem"], str(item["answer"])

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "generate_until",
            "doc_to_text": PROMPT,
            "doc_to_target": "{{answer}}",
            "generation_kwargs": {"until": ["Problem:"], "max_gen_toks": options.max_gen_toks, "do_sample": False},
            "process_results": Fn("process_results"),
            "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
        }


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (balanced braces), or None."""
    start = text.rfind("\\boxed")
    if start == -1:
        return None
    brace = text.find("{", start)
    if brace == -1:
        return None
    depth = 0
    for i in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[brace + 1:i]
    return None


def normalize(answer: str) -> str:
    s = str(answer).strip().replace("\n", "").rstrip(".")
    s = s.replace("\\!", "").replace("\\\\", "\\").replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "").replace("^{\\circ}", "").replace("^\\circ", "")
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "")
    s = re.sub(r"\\text\{\s*[a-zA-Z ]*\}$", "", s)  # trailing units
    s = re.sub(r"\\(?:text|mbox|mathrm)\{(.*?)\}", r"\1", s)
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    if s.startswith("."):
        s = "0" + s
    if re.fullmatch(r"[a-zA-Z]\s*=.*", s):  # "x = 3" -> "3"
        s = s.split("=", 1)[1]
    s = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", s)
    s = s.replace(" ", "")
    if s == "0.5":
        s = "\\frac{1}{2}"
    return s


def is_equivalent(prediction: str, answer: str) -> bool:
    a, b = normalize(prediction), normalize(answer)
    if a == b:
        return True
    try:
        return abs(float(a.replace(",", "")) - float(b.replace(",", ""))) < 1e-6
    except ValueError:
        return False


def process_results(doc: dict, results: list[str]) -> dict:
    boxed = last_boxed(results[0])
    return {"exact_match": float(boxed is not None and is_equivalent(boxed, str(doc["answer"])))}
