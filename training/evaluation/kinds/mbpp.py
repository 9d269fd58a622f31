"""MBPP (Austin et al.): 3-shot ``[BEGIN]``/``[DONE]`` prompt as lm-eval's ``mbpp`` task, pass@1 by execution.

Columns as the ``google-research-datasets/mbpp`` files: ``task_id``, ``text``, ``code``, ``test_list`` (3 asserts),
optional ``test_setup_code``. The 3 few-shot examples are lm-eval's fixed ones (MBPP's prompt split, ids 2-4).
"""
from __future__ import annotations

import re

from training.evaluation.code_exec import require_code_execution, run_program
from training.evaluation.kinds.base import BenchmarkKind, Fn, TaskOptions, need_str, need_str_list, register

_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.DOTALL)


@register
class MBPP(BenchmarkKind):
    name = "mbpp"
    title = "MBPP, pass@1"
    domain = "code"
    metrics = {"pass@1": "pass@1,none"}
    columns = ("task_id", "text: str", "code: str", "test_list: list[str] (3 asserts)", "test_setup_code (optional)")
    output_type = "generate_until"
    num_fewshot = 3
    max_gen_toks = 512
    executes_code = True

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "text", where=where, kind=self.name)
        need_str(item, "code", where=where, kind=self.name)
        need_str_list(item, "test_list", where=where, kind=self.name, min_len=3)

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["text"], item["code"]

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "generate_until",
            "unsafe_code": True,
            "doc_to_text": "You are an expert Python programmer, and here is your task: {{text}} Your code should pass "
                           "these tests:\n\n{{test_list[0]}}\n{{test_list[1]}}\n{{test_list[2]}}\n[BEGIN]\n",
            "doc_to_target": "{% if is_fewshot is defined %}{{code}}\n[DONE]{% else %}{{test_list[0]}}{% endif %}",
            "target_delimiter": "",
            "generation_kwargs": {"until": ["[DONE]"], "max_gen_toks": options.max_gen_toks, "do_sample": False},
            "fewshot_config": {"sampler": "first_n", "samples": Fn("fewshot_samples")},
            "process_results": Fn("process_pass_at_1"),
            "metric_list": [{"metric": "pass@1", "aggregation": "mean", "higher_is_better": True}],
        }


def fewshot_samples() -> list[dict]:
    return [
        {"task_id": 2, "text": "Write a function to find the similar elements from the given two tuple lists.",
         "code": "def similar_elements(test_tup1, test_tup2):\r\n  res = tuple(set(test_tup1) & set(test_tup2))\r\n  return (res) ",
         "test_list": ["assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)",
                       "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)",
                       "assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)"], "is_fewshot": True},
        {"task_id": 3, "text": "Write a python function to identify non-prime numbers.",
         "code": "import math\r\ndef is_not_prime(n):\r\n    result = False\r\n    for i in range(2,int(math.sqrt(n)) + 1):\r\n"
                 "        if n % i == 0:\r\n            result = True\r\n    return result",
         "test_list": ["assert is_not_prime(2) == False", "assert is_not_prime(10) == True",
                       "assert is_not_prime(35) == True"], "is_fewshot": True},
        {"task_id": 4, "text": "Write a function to find the largest integers from a given list of numbers using heap queue algorithm.",
         "code": "import heapq as hq\r\ndef heap_queue_largest(nums,n):\r\n  largest_nums = hq.nlargest(n, nums)\r\n  return largest_nums",
         "test_list": ["assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],3)==[85, 75, 65] ",
                       "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],2)==[85, 75] ",
                       "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],5)==[85, 75, 65, 58, 35]"],
         "is_fewshot": True},
    ]


def mbpp_program(doc: dict, completion: str) -> str:
    fenced = _FENCE.search(completion)
    code = fenced.group(1) if fenced else completion
    return "\n".join([doc.get("test_setup_code") or "", code, *doc["test_list"]]) + "\n"


def process_pass_at_1(doc: dict, results: list[str]) -> dict:
    require_code_execution("mbpp")
    return {"pass@1": float(run_program(mbpp_program(doc, results[0])).passed)}
