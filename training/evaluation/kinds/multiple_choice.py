"""User-uploaded multiple-choice benchmarks: ``prompt``, ``choices``, ``answer_index``; log-likelihood of each choice."""
from __future__ import annotations

from arena.errors import InvalidInput
from training.evaluation.kinds.base import BenchmarkKind, TaskOptions, need_int, need_str, need_str_list, register


@register
class MultipleChoice(BenchmarkKind):
    name = "multiple_choice"
    title = "multiple choice by log-likelihood (your own file)"
    domain = "reasoning"
    metrics = {"accuracy": "acc,none", "accuracy_norm": "acc_norm,none"}
    columns = ("prompt: str", "choices: list[str] (>= 2)", "answer_index: int", "id (optional)")
    output_type = "multiple_choice"
    chat_template = True

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "prompt", where=where, kind=self.name)
        choices = need_str_list(item, "choices", where=where, kind=self.name, min_len=2)
        need_int(item, "answer_index", where=where, kind=self.name, high=len(choices) - 1)
        if "system" in item:
            raise InvalidInput(f"{where}: per-item 'system' prompts are not supported; put the instruction into 'prompt'")

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["prompt"], item["choices"][item["answer_index"]]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "multiple_choice",
            "doc_to_text": "{{prompt}}",
            "doc_to_choice": "{{choices}}",
            "doc_to_target": "{{answer_index}}",
            # the choice follows the assistant turn directly, as in the chat format the model was trained on
            "target_delimiter": "" if options.chat_template else " ",
            "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm")],
        }
