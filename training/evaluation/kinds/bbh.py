"""BIG-Bench Hard: lm-eval's zero-shot ``bbh`` template (``Q: ...\\nA:``), exact match of the answer.

Columns as the BBH task files: ``input``, ``target``. One file may hold one or several of the 27 subtasks;
the score is the mean over the file's items (lm-eval's ``bbh`` group averages its subtasks instead).
"""
from __future__ import annotations

from training.evaluation.kinds.base import BenchmarkKind, TaskOptions, need_str, register


@register
class BBH(BenchmarkKind):
    name = "bbh"
    title = "BIG-Bench Hard (zero-shot), exact match"
    domain = "reasoning"
    metrics = {"exact_match": "exact_match,none"}
    columns = ("input: str", "target: str")
    output_type = "generate_until"
    max_gen_toks = 256

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "input", where=where, kind=self.name)
        need_str(item, "target", where=where, kind=self.name)

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["input"], item["target"]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "generate_until",
            "doc_to_text": "Q: {{input}}\nA:",
            "doc_to_target": "{{target}}",
            "generation_kwargs": {"until": ["</s>", "Q:", "<|im_end|>"], "max_gen_toks": options.max_gen_toks,
                                  "do_sample": False},
            "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                             "ignore_case": True, "regexes_to_ignore": ["\\.$", ",", "\n", "\\\\", '"']}],
            "filter_list": [{"name": "none", "filter": [{"function": "remove_whitespace"}, {"function": "take_first"}]}],
        }
