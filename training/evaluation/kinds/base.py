"""The benchmark-kind contract and registry.

A benchmark kind is one small module in ``training/evaluation/kinds/`` decorated with ``@register``. It declares
the columns its item file must have (checked line by line when the file is registered, so a file that does not
match its task fails then, not mid-job), the lm-eval task template its items run through, the metrics it may
report (Arena's name -> lm-eval's ``metric,filter`` key) and its defaults (few-shot count, generation budget,
chat template). Adding a kind means adding one file; ``kinds/__init__.py`` imports every module in the package.

Python functions a task needs (``process_results``, ``process_docs``) live in the kind's own module and appear
in the generated YAML as ``!function arena_functions.<name>``; the harness writes an ``arena_functions.py`` next
to the YAML that re-exports the kind's module.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import ClassVar

from arena.domains import BENCHMARK_DOMAINS as DOMAINS
from arena.errors import InvalidInput


@dataclass(frozen=True)
class Fn:
    """A reference to a function of the kind's module, written as ``!function arena_functions.<name>``."""

    name: str


@dataclass(frozen=True)
class Requirement:
    """A Python module a kind needs at run time (``hint`` says how to get it)."""

    module: str
    hint: str


@dataclass(frozen=True)
class TaskOptions:
    """What a registered benchmark may override of its kind's defaults (resolved: no None left)."""

    num_fewshot: int
    max_gen_toks: int | None  # None for log-likelihood kinds
    chat_template: bool


class BenchmarkKind:
    name: ClassVar[str]
    title: ClassVar[str]
    domain: ClassVar[str]
    #: Arena metric name -> lm-eval result key ("metric,filter"); the first is the default
    metrics: ClassVar[dict[str, str]]
    #: the columns an item must have, for messages and docs ("question: str", ...)
    columns: ClassVar[tuple[str, ...]]
    output_type: ClassVar[str]  # generate_until | multiple_choice
    num_fewshot: ClassVar[int] = 0
    max_gen_toks: ClassVar[int | None] = None
    chat_template: ClassVar[bool] = False
    executes_code: ClassVar[bool] = False
    requirements: ClassVar[tuple[Requirement, ...]] = ()

    # --- items ---------------------------------------------------------------------------------------------------
    def check_item(self, item: dict, *, where: str, metric: str) -> None:
        """Raise InvalidInput naming ``where`` (e.g. 'line 12') and what is wrong. ``item`` is a dict."""
        raise NotImplementedError

    def reference_text(self, item: dict) -> tuple[str, object]:
        """(prompt, answer) of an item, for contamination scans (lineage reads them through the selector)."""
        raise NotImplementedError

    def item_id(self, item: dict):
        return item.get("id", item.get("task_id"))

    # --- the lm-eval task -----------------------------------------------------------------------------------------
    def task_body(self, *, options: TaskOptions, metric: str) -> dict:
        """The lm-eval task config minus ``task``, ``dataset_*`` and split keys (which the harness adds)."""
        raise NotImplementedError

    def check_ready(self) -> None:
        """Raise InvalidInput when this worker lacks what the kind needs at run time."""
        missing = [r for r in self.requirements if importlib.util.find_spec(r.module) is None]
        if missing:
            raise InvalidInput(
                f"benchmark kind {self.name!r} needs " + "; ".join(f"the '{r.module}' module ({r.hint})" for r in missing)
            )

    def metric_key(self, metric: str) -> str:
        if metric not in self.metrics:
            raise InvalidInput(f"metric {metric!r} does not fit kind {self.name!r}; expected one of {', '.join(self.metrics)}")
        return self.metrics[metric]


KINDS: dict[str, BenchmarkKind] = {}


def register(cls: type[BenchmarkKind]) -> type[BenchmarkKind]:
    if cls.name in KINDS:
        raise ValueError(f"benchmark kind {cls.name!r} registered twice")
    if cls.domain not in DOMAINS:
        raise ValueError(f"benchmark kind {cls.name}: unknown domain {cls.domain!r}")
    KINDS[cls.name] = cls()
    return cls


def kind_get(name: str) -> BenchmarkKind:
    import training.evaluation.kinds  # noqa: F401  (registers every kind)

    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(f"unknown benchmark kind {name!r}; expected one of {', '.join(sorted(KINDS))}") from None


def kind_names() -> list[str]:
    import training.evaluation.kinds  # noqa: F401

    return sorted(KINDS)


# --- column checks shared by the kinds ------------------------------------------------------------------------------

def need_str(item: dict, key: str, *, where: str, kind: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: a {kind} item needs a non-empty string '{key}' (got {_shown(value)})")
    return value


def need_int(item: dict, key: str, *, where: str, kind: str, low: int = 0, high: int | None = None) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise InvalidInput(f"{where}: a {kind} item needs an integer '{key}' in {bound} (got {_shown(value)})")
    return value


def need_str_list(item: dict, key: str, *, where: str, kind: str, min_len: int = 1) -> list[str]:
    value = item.get(key)
    if not isinstance(value, list) or len(value) < min_len or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(
            f"{where}: a {kind} item needs '{key}', a list of at least {min_len} non-empty strings (got {_shown(value)})"
        )
    return value


def need_answer(item: dict, key: str, *, where: str, kind: str) -> None:
    value = item.get(key)
    if value is None or isinstance(value, (bool, list, dict)) or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{where}: a {kind} item needs '{key}', a non-empty string or a number (got {_shown(value)})")


def _shown(value) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
