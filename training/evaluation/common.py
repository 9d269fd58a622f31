"""What the evaluation path shares: the result type and cancellation."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class EvaluationCancelled(Exception):
    """Raised between request chunks when the job's cancel flag is set."""


@dataclass
class BenchmarkScore:
    """One benchmark's result as the harness reported it, with what is needed to reproduce and inspect it."""

    score: float
    n_items: int
    stderr: float | None
    details: dict = field(default_factory=dict)
    metric: str = ""  # lm-eval's "metric,filter" key the score was read from
    harness_version: str = ""
    backend: str = ""  # hf | vllm
    task_config: str = ""  # the generated task YAML (data path replaced by <items>)
    task_config_hash: str = ""
    num_fewshot: int = 0
    generation_settings: dict = field(default_factory=dict)
    items_file: str = ""  # storage name of the per-item outputs (Parquet)

    def result_fields(self) -> dict:
        """The keyword arguments of the EvalResult row that stores this score."""
        return {
            "score": self.score, "n_items": self.n_items, "stderr": self.stderr, "details": self.details,
            "metric": self.metric, "harness_version": self.harness_version, "backend": self.backend,
            "task_config": self.task_config, "task_config_hash": self.task_config_hash,
            "num_fewshot": self.num_fewshot, "generation_settings": self.generation_settings,
            "items_file": self.items_file,
        }


def check_stop(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise EvaluationCancelled()
