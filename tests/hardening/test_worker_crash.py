"""A whole Celery worker (main process, pool and embedded beat: the process group) SIGKILLed in the middle of an
ingest, a scoring run and a training job. A new worker with the sweeper (celery beat) must find the stale lease,
re-queue the work and finish it within the lease plus a margin, with exactly the right counts and no duplicates.

The broker's visibility timeout stays at 6 hours, so only the sweeper can bring the work back.
"""

from __future__ import annotations

import io
import json
import time

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from arena.models import Dataset
from arena.services import dataset_register
from scoring.models import ScoreAggregate, ScoringChunk, ScoringRun
from scoring.services import scoring_run_start
from tests.factories import ready_dataset
from tests.polling import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.slow]

LEASE = 5  # seconds without a heartbeat before the sweeper re-queues the work
SWEEP = 1  # seconds between sweeps
MARGIN = 20  # worker start-up and scheduling slack on a loaded 2-core machine


@pytest.fixture
def swept_worker(celery_worker, monkeypatch, tmp_path):
    """``swept_worker(queues)``: a worker with an embedded celery beat running the sweeper every second."""
    monkeypatch.setenv("ARENA_LEASE_SECONDS", str(LEASE))
    monkeypatch.setenv("ARENA_HEARTBEAT_SECONDS", "1")
    monkeypatch.setenv("ARENA_SWEEP_SECONDS", str(SWEEP))
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", str(6 * 3600))
    counter = iter(range(100))

    def start(queues: list[str]):
        schedule = tmp_path / f"beat-{next(counter)}"
        return celery_worker(queues=[*queues, "sweep"], extra_args=["-B", "-s", str(schedule)])

    return start


def _poll(fetch, done, *, timeout: float, what: str):
    return wait_until(fetch, done, timeout=timeout, interval=0.05, describe=lambda v: f"{what}: {v}")


def _kill_and_restart(worker, start, queues):
    """SIGKILL the whole worker, prove it is dead, start a fresh one; returns (new worker, when it was ready).

    The lease runs from the dead worker's last heartbeat, so once the new worker (and its beat) is up the work
    must be re-queued within LEASE + SWEEP + MARGIN."""
    worker.kill()
    assert worker.process.poll() is not None
    new = start(queues)
    return new, time.monotonic()


def test_killed_worker_ingest_is_swept_and_completes_once(swept_worker, user, make_upload, settings, _isolated_storage):
    records = 80_000  # several seconds of ingest on one core, so there is time to kill it half-way
    first = swept_worker(["ingest"])
    content = "".join(
        json.dumps({"instruction": f"Question {i}: " + "word " * 20, "input": "", "output": f"Answer {i}"}) + "\n"
        for i in range(records)
    )
    dataset = dataset_register(owner=user, upload=make_upload(content), filename="big.jsonl", name="Big")
    fetch = lambda: Dataset.objects.get(pk=dataset.pk)  # noqa: E731
    mid = _poll(fetch, lambda d: d.status == "ingesting" and d.progress >= 0.05, timeout=90, what="ingest start")
    assert mid.worker and mid.heartbeat_at, "the ingesting worker records itself and a heartbeat"
    dead_worker = mid.worker
    second, ready_at = _kill_and_restart(first, swept_worker, ["ingest"])
    frozen = fetch()
    assert frozen.status == "ingesting" and frozen.progress < 0.9, "the ingest was nearly over: use more records"
    assert not frozen.samples_file and frozen.raw_file  # nothing published half-way; the upload is still there

    retaken = _poll(fetch, lambda d: d.worker != dead_worker, timeout=LEASE + SWEEP + MARGIN, what="re-queue")
    assert time.monotonic() - ready_at <= LEASE + SWEEP + MARGIN
    assert retaken.worker  # the new worker holds the lease
    done = _poll(fetch, lambda d: d.status == "failed" or d.status == "ready" and d.heartbeat_at is None,
                 timeout=180, what="swept ingest")
    assert done.status == Dataset.Status.READY, done.error
    assert done.sample_count == records and done.progress == 1.0 and done.heartbeat_at is None
    assert Dataset.objects.count() == 1
    parquet = pq.ParquetFile(default_storage.path(done.samples_file))
    assert parquet.metadata.num_rows == records  # not doubled by the two attempts
    assert parquet.read(columns=["idx"]).column("idx").to_pylist() == list(range(records))
    stored = {str(p.relative_to(_isolated_storage)) for p in _isolated_storage.rglob("*") if p.is_file()}
    assert stored == {done.samples_file}  # raw upload removed, no .part left over
    assert sorted(p.name for p in settings.ARENA_TMP_DIR.iterdir()) == []


def _samples(n: int) -> str:
    return "".join(
        json.dumps({"instruction": f"Explain topic {i} in some detail, please, with examples " * 3,
                    "input": "", "output": f"Topic {i} is about many different words and ideas " * 6}) + "\n"
        for i in range(n)
    )


def test_killed_worker_scoring_redoes_only_unfinished_chunks(swept_worker, user):
    rows, chunk_rows = 1200, 40
    dataset = ready_dataset(owner=user, name="to score", content=_samples(rows))
    first = swept_worker(["scoring"])
    run = scoring_run_start(
        dataset=dataset, scorers=["mtld", "hdd", "flesch_reading_ease", "unique_ngram_ratio"], user=user,
        chunk_rows=chunk_rows,
    )
    n_chunks = rows // chunk_rows
    done_count = lambda: ScoringChunk.objects.filter(run=run, status="done").count()  # noqa: E731
    _poll(done_count, lambda n: n >= 3, timeout=120, what="chunks done before the kill")
    running = _poll(
        lambda: list(ScoringChunk.objects.filter(run=run, status="running").values_list("pk", "worker")),
        bool, timeout=30, what="a running chunk",
    )
    second, ready_at = _kill_and_restart(first, swept_worker, ["scoring"])
    done_before = set(ScoringChunk.objects.filter(run=run, status="done").values_list("pk", flat=True))
    assert len(done_before) < n_chunks, "the run finished before the kill: use more rows"
    held_by_dead = running[0][1]
    assert held_by_dead

    chunk_pk = running[0][0]
    # re-queued: its lease is cleared (it then waits behind the chunks still queued) or already re-taken
    _poll(lambda: ScoringChunk.objects.get(pk=chunk_pk), lambda c: c.heartbeat_at is None or c.worker != held_by_dead,
          timeout=LEASE + SWEEP + MARGIN, what="stale chunk re-queued")
    assert time.monotonic() - ready_at <= LEASE + SWEEP + MARGIN
    run = _poll(lambda: ScoringRun.objects.get(pk=run.pk), lambda r: r.status in ("succeeded", "failed"),
                timeout=240, what="swept scoring run")
    assert run.status == "succeeded", run.error
    chunks = list(run.chunks.all())
    assert len(chunks) == n_chunks and all(c.status == "done" for c in chunks)
    assert all(c.attempts == 1 for c in chunks if c.pk in done_before)  # finished chunks were not redone
    assert next(c for c in chunks if c.pk == chunk_pk).attempts == 2  # the killed chunk was redone once
    scores = pq.read_table(default_storage.path(run.scores_file)).to_pydict()
    assert scores["idx"] == list(range(rows))  # every sample exactly once
    assert ScoreAggregate.objects.filter(run=run).count() == 4
    assert ScoreAggregate.objects.get(run=run, scorer="mtld").count == rows


TINY_PATH = ('tiny:{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, '
             '"num_key_value_heads": 2, "max_position_embeddings": 64}')


def test_killed_worker_job_resumes_from_its_checkpoint(swept_worker, user, monkeypatch):
    from training.demo.benchmarks import demo_benchmarks
    from training.demo.datasets import clean, to_jsonl
    from training.models import EvalResult, Job
    from training.benchmark_services import benchmark_create
    from training.services import base_model_create, job_create, recipe_create

    monkeypatch.setenv("ARENA_CHECKPOINT_EVERY", "10")
    base = base_model_create(name="tiny crash", path=TINY_PATH)
    recipe = recipe_create(name="crash recipe", learning_rate=3e-3, epochs=40.0, batch_size=8, max_length=48)
    benchmarks = []
    for spec in demo_benchmarks(n=12):
        upload = io.BytesIO("".join(json.dumps(i) + "\n" for i in spec.items).encode())
        benchmarks.append(benchmark_create(name=spec.name, domain=spec.domain, kind=spec.kind, metric=spec.metric,
                                           upload=upload, filename="items.jsonl"))
    dataset = ready_dataset(owner=user, name="train me", content=to_jsonl(clean(size=96)))
    first = swept_worker(["gpu"])
    job = job_create(dataset=dataset, base_model=base, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    fetch = lambda: Job.objects.get(pk=job.pk)  # noqa: E731
    mid = _poll(fetch, lambda j: (j.metrics or {}).get("checkpoint_step", 0) >= 10 or j.status != "queued" and
                j.status != "running", timeout=180, what="first checkpoint")
    assert mid.status == "running", f"the job ended before the kill: {mid.status} {mid.error}"
    assert mid.worker and mid.heartbeat_at
    second, ready_at = _kill_and_restart(first, swept_worker, ["gpu"])
    checkpoint_at_kill = fetch().metrics["checkpoint_step"]

    _poll(fetch, lambda j: j.attempts == 2, timeout=LEASE + SWEEP + MARGIN, what="stale job re-queued")
    assert time.monotonic() - ready_at <= LEASE + SWEEP + MARGIN
    job = _poll(fetch, lambda j: j.status in ("succeeded", "failed", "cancelled"), timeout=300, what="swept job")
    assert job.status == "succeeded", f"{job.error}\n{job.logs[-2000:]}"
    assert job.attempts == 2
    assert "resum" in job.logs
    resumed = (job.metrics or {}).get("resumed_from_step")
    assert resumed is None or resumed >= checkpoint_at_kill  # resumed from the checkpoint, not from step 0
    assert EvalResult.objects.filter(job=job).count() == len(benchmarks)  # one result per benchmark, no duplicate
