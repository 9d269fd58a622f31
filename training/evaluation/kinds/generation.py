"""User-uploaded generation benchmarks: ``prompt`` + ``answer``, greedy generation, exact or numeric match."""
from __future__ import annotations

from arena.errors import InvalidInput
from training.evaluation.answers import exact_match, numeric_match, to_number
from training.evaluation.kinds.base import BenchmarkKind, Fn, TaskOptions, need_answer, need_int, need_str, register


@register
class Generation(BenchmarkKind):
    name = "generation"
    title = "generate, then exact/numeric match (your own file)"
    domain = "general"
    metrics = {"exact_match": "exact_match,none", "numeric_match": "numeric_match,none"}
    columns = ("prompt: str", "answer: str | number", "max_new_tokens: int (optional)", "id (optional)")
    output_type = "generate_until"
    chat_template = True
    max_gen_toks = 256

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "prompt", where=where, kind=self.name)
        need_answer(item, "answer", where=where, kind=self.name)
        if "system" in item:
            raise InvalidInput(f"{where}: per-item 'system' prompts are not supported; put the instruction into 'prompt'")
        if item.get("max_new_tokens") is not None:
            need_int(item, "max_new_tokens", where=where, kind=self.name, low=1, high=4096)
        if metric == "numeric_match" and to_number(item["answer"]) is None:
            raise InvalidInput(f"{where}: metric numeric_match needs a numeric 'answer' (got {item['answer']!r})")

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["prompt"], item.get("answer")

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "generate_until",
            "doc_to_text": "{{prompt}}",
            "doc_to_target": "{{answer}}",
            "generation_kwargs": {"until": [], "max_gen_toks": options.max_gen_toks, "do_sample": False},
            "process_results": Fn(f"process_{metric}"),
            "metric_list": [{"metric": metric, "aggregation": "mean", "higher_is_better": True}],
        }


def process_exact_match(doc: dict, results: list[str]) -> dict:
    return {"exact_match": float(exact_match(results[0], doc["answer"]))}


def process_numeric_match(doc: dict, results: list[str]) -> dict:
    return {"numeric_match": float(numeric_match(results[0], doc["answer"]))}
