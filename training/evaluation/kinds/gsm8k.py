"""GSM8K: lm-eval's ``gsm8k`` task (``Question: ...\\nAnswer:``, 5-shot, strict and flexible answer extraction).

Columns as the ``openai/gsm8k`` files: ``question``, ``answer`` (worked solution ending in ``#### <number>``).
Few-shot examples are drawn from the same file, never the item being asked.
"""
from __future__ import annotations

from arena.errors import InvalidInput
from training.evaluation.kinds.base import BenchmarkKind, TaskOptions, need_str, register


@register
class GSM8K(BenchmarkKind):
    name = "gsm8k"
    title = "GSM8K, exact match of the final number"
    domain = "math"
    metrics = {"exact_match": "exact_match,flexible-extract", "exact_match_strict": "exact_match,strict-match"}
    columns = ("question: str", "answer: str ending in '#### <number>'")
    output_type = "generate_until"
    num_fewshot = 5
    max_gen_toks = 256

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "question", where=where, kind=self.name)
        answer = need_str(item, "answer", where=where, kind=self.name)
        if "####" not in answer:
            raise InvalidInput(f"{where}: a gsm8k 'answer' must end with '#### <number>' (GSM8K's format)")

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["question"], item["answer"]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "generate_until",
            "doc_to_text": "Question: {{question}}\nAnswer:",
            "doc_to_target": "{{answer}}",
            "generation_kwargs": {"until": ["Question:", "</s>", "<|im_end|>"], "max_gen_toks": options.max_gen_toks,
                                  "do_sample": False},
            "metric_list": [{
                "metric": "exact_match", "aggregation": "mean", "higher_is_better": True, "ignore_case": True,
                "ignore_punctuation": False, "regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"],
            }],
            "filter_list": [
                {"name": "strict-match", "filter": [
                    {"function": "regex", "regex_pattern": "#### (\\-?[0-9\\.\\,]+)"}, {"function": "take_first"}]},
                {"name": "flexible-extract", "filter": [
                    {"function": "regex", "group_select": -1, "regex_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)"},
                    {"function": "take_first"}]},
            ],
        }
