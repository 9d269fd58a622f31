"""IFEval: lm-eval's ``ifeval`` task and checkers (prompt-level strict accuracy by default).

Columns as ``google/IFEval``: ``key``, ``prompt``, ``instruction_id_list``, ``kwargs`` (one dict per instruction).

Needs, on the worker, three things lm-eval's checkers import: ``langdetect`` (published only as a source
distribution, ``pip install langdetect``), ``immutabledict`` and ``nltk`` with its ``punkt_tab`` tokenizer data
present locally (``python -m nltk.downloader punkt_tab`` where a network is reachable, or copy the
``nltk_data`` folder). lm-eval would download ``punkt_tab`` at import time; Arena checks for it first and
refuses with this explanation instead, so nothing is fetched at run time.
"""
from __future__ import annotations

from arena.errors import InvalidInput
from training.evaluation.kinds.base import BenchmarkKind, Fn, Requirement, TaskOptions, need_str, need_str_list, register


@register
class IFEval(BenchmarkKind):
    name = "ifeval"
    title = "IFEval, instruction following (prompt-level strict accuracy)"
    domain = "general"
    metrics = {
        "prompt_level_strict_acc": "prompt_level_strict_acc,none",
        "inst_level_strict_acc": "inst_level_strict_acc,none",
        "prompt_level_loose_acc": "prompt_level_loose_acc,none",
        "inst_level_loose_acc": "inst_level_loose_acc,none",
    }
    columns = ("key", "prompt: str", "instruction_id_list: list[str]", "kwargs: list[dict] (one per instruction)")
    output_type = "generate_until"
    max_gen_toks = 1280
    chat_template = True
    requirements = (
        Requirement("langdetect", "pip install langdetect (source distribution only)"),
        Requirement("immutabledict", "pip install immutabledict"),
        Requirement("nltk", "pip install nltk"),
    )

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        need_str(item, "prompt", where=where, kind=self.name)
        ids = need_str_list(item, "instruction_id_list", where=where, kind=self.name)
        kwargs = item.get("kwargs")
        if not isinstance(kwargs, list) or len(kwargs) != len(ids) or not all(isinstance(k, dict) for k in kwargs):
            raise InvalidInput(f"{where}: an ifeval item needs 'kwargs', a list of one object per instruction id")

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["prompt"], None

    def check_ready(self) -> None:
        super().check_ready()
        import nltk

        try:
            nltk.data.find("tokenizers/punkt_tab")
        except LookupError:
            raise InvalidInput(
                "benchmark kind 'ifeval' needs nltk's 'punkt_tab' tokenizer data on this worker "
                "(python -m nltk.downloader punkt_tab where a network is reachable, or copy an nltk_data folder "
                f"into one of {nltk.data.path[:3]}); Arena does not download it at run time"
            ) from None

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        return {
            "output_type": "generate_until",
            "doc_to_text": "prompt",
            "doc_to_target": 0,
            "generation_kwargs": {"until": [], "max_gen_toks": options.max_gen_toks, "do_sample": False},
            "process_results": Fn("process_results"),
            "metric_list": [
                {"metric": "prompt_level_strict_acc", "aggregation": "mean", "higher_is_better": True},
                {"metric": "inst_level_strict_acc", "aggregation": Fn("agg_inst_level_acc"), "higher_is_better": True},
                {"metric": "prompt_level_loose_acc", "aggregation": "mean", "higher_is_better": True},
                {"metric": "inst_level_loose_acc", "aggregation": Fn("agg_inst_level_acc"), "higher_is_better": True},
            ],
        }


def process_results(doc: dict, results: list[str]) -> dict:
    from lm_eval.tasks.ifeval.utils import process_results as stock

    return stock(doc, results)


def agg_inst_level_acc(items) -> float:
    flat = [x for sub in items for x in sub]
    return sum(flat) / len(flat)
