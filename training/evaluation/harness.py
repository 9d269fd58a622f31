"""Run one benchmark through EleutherAI lm-evaluation-harness on an in-memory model.

The benchmark's kind gives an lm-eval task config; it is written as YAML (plus an ``arena_functions.py`` that
re-exports the kind's module for ``!function`` references) into a fresh directory, loaded with
``TaskManager(include_path=..., include_defaults=False)`` (no indexing of lm-eval's 14k built-in tasks), and run
with ``lm_eval.evaluator.evaluate`` against lm-eval's Hugging Face model wrapper (``HFLM``, given the model
instance) or its vLLM wrapper. The wrapper runs requests in chunks so that a cancel request and progress are
seen between chunks. Nothing reaches a hub: the data is a local file, and HF_DATASETS_OFFLINE is forced on.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import yaml
from django.conf import settings

from arena.errors import InvalidInput
from arena.storage import tmp_dir
from training.evaluation.common import check_stop
from training.evaluation.kinds.base import BenchmarkKind, Fn, TaskOptions

FUNCTIONS_MODULE = "arena_functions"
DATA_PLACEHOLDER = "<items>"
BACKENDS = ("hf", "vllm", "auto")


class _TaskDumper(yaml.SafeDumper):
    pass


_TaskDumper.add_representer(
    Fn, lambda dumper, fn: dumper.represent_scalar("!function", f"{FUNCTIONS_MODULE}.{fn.name}")
)


@dataclass(frozen=True)
class TaskSpec:
    name: str
    yaml_text: str  # with DATA_PLACEHOLDER where the data file goes
    config_hash: str
    kind: BenchmarkKind
    data_format: str  # json | parquet


def task_spec(*, kind: BenchmarkKind, slug: str, options: TaskOptions, metric: str, data_format: str) -> TaskSpec:
    """The lm-eval task of a benchmark; its hash covers the whole config (not where the data file lies)."""
    name = "arena_" + slug.replace("-", "_")
    config = {
        "task": name,
        "dataset_path": data_format,
        "dataset_kwargs": {"data_files": {"test": DATA_PLACEHOLDER}},
        "test_split": "test",
        "fewshot_split": "test",  # one file: few-shot examples come from it, never the item being asked
        **kind.task_body(options=options, metric=metric),
        "num_fewshot": options.num_fewshot,
        "metadata": {"version": 1.0, "arena_kind": kind.name},
    }
    text = yaml.dump(config, Dumper=_TaskDumper, sort_keys=False, allow_unicode=True, width=1000)
    digest = hashlib.sha256(f"{text}\n# {kind.__class__.__module__}".encode()).hexdigest()
    return TaskSpec(name=name, yaml_text=text, config_hash=digest, kind=kind, data_format=data_format)


@contextlib.contextmanager
def task_directory(*, spec: TaskSpec, data_path: str) -> Iterator[str]:
    """A temporary include_path holding the task YAML and its functions module."""
    directory = tempfile.mkdtemp(prefix="arena-task-", dir=tmp_dir())
    try:
        with open(os.path.join(directory, f"{spec.name}.yaml"), "w", encoding="utf-8") as handle:
            handle.write(spec.yaml_text.replace(DATA_PLACEHOLDER, os.path.abspath(data_path)))
        with open(os.path.join(directory, f"{FUNCTIONS_MODULE}.py"), "w", encoding="utf-8") as handle:
            handle.write(f"from {spec.kind.__class__.__module__} import *  # noqa: F401,F403\n")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- the model side -------------------------------------------------------------------------------------------------

class _Watched:
    """Mixed into an lm-eval LM: run each request type in chunks, checking for cancel and reporting progress."""

    arena_chunk: int = 32
    arena_should_stop: Callable[[], bool] | None = None
    arena_progress: Callable[[float], None] | None = None

    def _arena_run(self, method, requests, disable_tqdm: bool):
        out: list = []
        for start in range(0, len(requests), self.arena_chunk):
            check_stop(self.arena_should_stop)
            out.extend(method(requests[start:start + self.arena_chunk], disable_tqdm=True))
            if self.arena_progress is not None:
                self.arena_progress(len(out) / len(requests))
        return out

    def generate_until(self, requests, disable_tqdm: bool = False):
        return self._arena_run(super().generate_until, requests, disable_tqdm)

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        return self._arena_run(super().loglikelihood, requests, disable_tqdm)

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        return self._arena_run(super().loglikelihood_rolling, requests, disable_tqdm)


def resolve_backend(*, model, wanted: str | None = None) -> str:
    """``ARENA_EVAL_BACKEND``: hf, vllm, or auto (vLLM when installed and the model is on a GPU)."""
    wanted = wanted or getattr(settings, "ARENA_EVAL_BACKEND", "hf")
    if wanted not in BACKENDS:
        raise InvalidInput(f"ARENA_EVAL_BACKEND must be one of {', '.join(BACKENDS)}, got {wanted!r}")
    has_vllm = importlib.util.find_spec("vllm") is not None
    on_gpu = next(model.parameters()).device.type == "cuda"
    if wanted == "auto":
        return "vllm" if has_vllm and on_gpu else "hf"
    if wanted == "vllm":
        if not has_vllm:
            raise InvalidInput("ARENA_EVAL_BACKEND=vllm but the vllm package is not installed on this worker "
                               "(pip install vllm on a GPU worker, or set ARENA_EVAL_BACKEND=hf)")
        if not on_gpu:
            raise InvalidInput("ARENA_EVAL_BACKEND=vllm needs the model on a CUDA GPU; this worker runs on CPU")
    return wanted


@contextlib.contextmanager
def language_model(*, model, tokenizer, backend: str, batch_size: int, max_gen_toks: int | None,
                   should_stop: Callable[[], bool] | None, progress: Callable[[float], None] | None):
    """An lm-eval LM over the in-memory model. vLLM loads from a directory: the model is saved to a temp one."""
    if backend == "vllm":
        from lm_eval.models.vllm_causallms import VLLM

        directory = tempfile.mkdtemp(prefix="arena-vllm-", dir=tmp_dir())
        try:
            model.save_pretrained(directory)
            tokenizer.save_pretrained(directory)
            lm = type("ArenaVLLM", (_Watched, VLLM), {})(
                pretrained=directory, tokenizer=directory, dtype="auto", batch_size="auto",
                max_gen_toks=max_gen_toks or 256,
                gpu_memory_utilization=settings.ARENA_VLLM_GPU_MEMORY_UTILIZATION,
            )
            lm.arena_should_stop, lm.arena_progress, lm.arena_chunk = should_stop, progress, 256
            yield lm
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    from lm_eval.models.huggingface import HFLM

    lm = type("ArenaHFLM", (_Watched, HFLM), {})(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    lm.arena_should_stop, lm.arena_progress, lm.arena_chunk = should_stop, progress, max(batch_size * 4, 1)
    yield lm


def run_task(*, lm, spec: TaskSpec, data_path: str, limit: int | None, chat_template: bool) -> dict:
    """lm-eval's ``evaluate`` on the one task; returns its result dict (with ``samples``)."""
    os.environ["HF_DATASETS_OFFLINE"] = "1"  # a local JSON load otherwise still looks up the hub
    os.environ["HF_HUB_OFFLINE"] = "1"
    from lm_eval import evaluator
    from lm_eval.tasks import TaskManager

    with task_directory(spec=spec, data_path=data_path) as directory:
        manager = TaskManager(include_path=directory, include_defaults=False)
        tasks = manager.load([spec.name])
        return evaluator.evaluate(
            lm=lm, task_dict=tasks, limit=limit, log_samples=True, bootstrap_iters=1000,
            apply_chat_template=chat_template, fewshot_as_multiturn=chat_template,
            confirm_run_unsafe_code=spec.kind.executes_code,
        )
