"""MMLU-Pro: lm-eval's ``mmlu_pro`` task (chain of thought, ``the answer is (X)`` extracted, exact match).

Columns as ``TIGER-Lab/MMLU-Pro``: ``question``, ``options`` (up to 10), ``answer`` (letter), ``answer_index``,
``cot_content`` (worked answers; only the validation split has them), ``category``. The stock task is 5-shot
from the validation split; a registered file is one split, so the default here is zero-shot (set
``num_fewshot`` when the file carries ``cot_content``).
"""
from __future__ import annotations

from arena.errors import InvalidInput
from training.evaluation.kinds.base import BenchmarkKind, Fn, TaskOptions, need_int, need_str, need_str_list, register

LETTERS = "ABCDEFGHIJ"


@register
class MMLUPro(BenchmarkKind):
    name = "mmlu_pro"
    title = "MMLU-Pro, exact match of the extracted letter"
    domain = "general"
    metrics = {"exact_match": "exact_match,custom-extract"}
    columns = ("question: str", "options: list[str] (<= 10)", "answer: letter A-J", "answer_index: int",
               "cot_content (optional)")
    output_type = "generate_until"
    max_gen_toks = 2048

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "question", where=where, kind=self.name)
        options = need_str_list(item, "options", where=where, kind=self.name, min_len=2)
        if len(options) > len(LETTERS):
            raise InvalidInput(f"{where}: an mmlu_pro item has at most 10 'options' (got {len(options)})")
        index = need_int(item, "answer_index", where=where, kind=self.name, high=len(options) - 1)
        if item.get("answer") != LETTERS[index]:
            raise InvalidInput(f"{where}: 'answer' must be the letter of 'answer_index' ({LETTERS[index]!r}), "
                               f"got {item.get('answer')!r}")

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["question"], item["options"][item["answer_index"]]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "generate_until",
            "doc_to_text": Fn("doc_to_text"),
            "doc_to_target": "answer",
            "fewshot_config": {"sampler": "first_n", "doc_to_text": Fn("fewshot_to_text"),
                               "doc_to_target": Fn("fewshot_to_target")},
            "filter_list": [{"name": "custom-extract", "filter": [
                {"function": "regex", "regex_pattern": "answer is \\(?([ABCDEFGHIJ])\\)?"}, {"function": "take_first"}]}],
            "generation_kwargs": {"until": ["Question:"], "max_gen_toks": options.max_gen_toks, "do_sample": False},
            "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                             "ignore_case": True, "ignore_punctuation": True}],
        }


def _example(doc: dict, *, with_answer: bool) -> str:  # lm-eval's mmlu_pro format_cot_example
    text = "Question:\n" + doc["question"] + "\nOptions:\n"
    text += "".join(f"{LETTERS[i]}. {option.strip()}\n" for i, option in enumerate(doc["options"][:10]))
    if with_answer:
        return text + (doc.get("cot_content") or "").replace("A: Let's think step by step.", "Answer: Let's think step by step.") + "\n\n"
    return text + "Answer: Let's think step by step."


def doc_to_text(doc: dict) -> str:
    return _example(doc, with_answer=False)


def fewshot_to_text(doc: dict) -> str:
    return _example(doc, with_answer=False)


def fewshot_to_target(doc: dict) -> str:
    return (doc.get("cot_content") or "").replace("A: Let's think step by step. ", "")
