"""Standard multiple-choice suites scored by log-likelihood, as lm-eval's tasks: MMLU, ARC-Challenge, GPQA.

Each reads the columns of the suite's published files (exported to JSONL/Parquet by whoever brings them).
A file holds one split; MMLU's few-shot examples are drawn from the same file (never the item itself),
lm-eval's stock task draws them from the ``dev`` split. Scores are the mean over all items of the file.
"""
from __future__ import annotations

import hashlib
import random

from arena.errors import InvalidInput
from training.evaluation.kinds.base import BenchmarkKind, Fn, TaskOptions, need_int, need_str, need_str_list, register

_ACC = [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm")]


@register
class MMLU(BenchmarkKind):
    name = "mmlu"
    title = "MMLU (57 subjects), accuracy"
    domain = "general"
    metrics = {"accuracy": "acc,none"}
    columns = ("question: str", "choices: list[str] (4)", "answer: int 0-3", "subject (optional)")
    output_type = "multiple_choice"
    num_fewshot = 5

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "question", where=where, kind=self.name)
        need_str_list(item, "choices", where=where, kind=self.name, min_len=4)
        if len(item["choices"]) != 4:
            raise InvalidInput(f"{where}: an mmlu item has exactly 4 'choices' (got {len(item['choices'])})")
        need_int(item, "answer", where=where, kind=self.name, high=3)

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["question"], item["choices"][item["answer"]]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {  # lm-eval's mmlu default template
            "output_type": "multiple_choice",
            "description": "The following are multiple choice questions (with answers).\n\n",
            "doc_to_text": "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
            "doc_to_choice": ["A", "B", "C", "D"],
            "doc_to_target": "answer",
            "metric_list": _ACC[:1],
        }


@register
class ARCChallenge(BenchmarkKind):
    name = "arc_challenge"
    title = "ARC-Challenge, normalised accuracy"
    domain = "reasoning"
    metrics = {"accuracy_norm": "acc_norm,none", "accuracy": "acc,none"}
    columns = ("question: str", "choices: {text: list[str], label: list[str]}", "answerKey: str (one of the labels)")
    output_type = "multiple_choice"

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "question", where=where, kind=self.name)
        choices = item.get("choices")
        if not isinstance(choices, dict):
            raise InvalidInput(f"{where}: an arc_challenge item needs 'choices' as {{\"text\": [...], \"label\": [...]}}")
        texts = need_str_list(choices, "text", where=where, kind=self.name + " choices", min_len=2)
        labels = need_str_list(choices, "label", where=where, kind=self.name + " choices", min_len=2)
        if len(texts) != len(labels):
            raise InvalidInput(f"{where}: 'choices.text' and 'choices.label' differ in length")
        key = need_str(item, "answerKey", where=where, kind=self.name)
        if key not in labels:
            raise InvalidInput(f"{where}: 'answerKey' {key!r} is not one of the labels {labels}")

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["question"], item["choices"]["text"][item["choices"]["label"].index(item["answerKey"])]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "multiple_choice",
            "doc_to_text": "Question: {{question}}\nAnswer:",
            "doc_to_target": "{{choices.label.index(answerKey)}}",
            "doc_to_choice": "{{choices.text}}",
            "metric_list": _ACC,
        }


@register
class GPQA(BenchmarkKind):
    name = "gpqa"
    title = "GPQA (zero-shot), normalised accuracy"
    domain = "reasoning"
    metrics = {"accuracy_norm": "acc_norm,none", "accuracy": "acc,none"}
    columns = ("Question: str", "Correct Answer: str", "Incorrect Answer 1/2/3: str")
    output_type = "multiple_choice"

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        for key in ("Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"):
            need_str(item, key, where=where, kind=self.name)

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["Question"], item["Correct Answer"]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {  # lm-eval's gpqa zeroshot template
            "output_type": "multiple_choice",
            "process_docs": Fn("process_docs"),
            "doc_to_text": "What is the correct answer to this question:{{Question}}\nChoices:\n(A) {{choice1}}\n"
                           "(B) {{choice2}}\n(C) {{choice3}}\n(D) {{choice4}}\nAnswer:",
            "doc_to_target": "answer",
            "doc_to_choice": ["(A)", "(B)", "(C)", "(D)"],
            "metric_list": _ACC,
        }


def _clean(text: str) -> str:
    return text.strip().replace(" [title]", ". ").replace("  ", " ")


def process_docs(dataset):
    """lm-eval's GPQA preprocessing, except that the choice order is seeded by the question (reproducible)."""

    def one(doc: dict) -> dict:
        choices = [_clean(doc[f"Incorrect Answer {i}"]) for i in (1, 2, 3)] + [_clean(doc["Correct Answer"])]
        random.Random(hashlib.sha256(doc["Question"].encode()).hexdigest()).shuffle(choices)
        answer = choices.index(_clean(doc["Correct Answer"]))
        return {"choice1": choices[0], "choice2": choices[1], "choice3": choices[2], "choice4": choices[3],
                "answer": f"({chr(65 + answer)})"}

    return dataset.map(one)
