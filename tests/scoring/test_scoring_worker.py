"""Integration: scoring runs through a real Celery worker on Redis, including a worker killed mid-run."""

from __future__ import annotations


import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from scoring.models import ScoreAggregate, ScoringChunk, ScoringRun
from scoring.services import scoring_run_resume, scoring_run_start
from tests.polling import wait_until


def _wait(run: ScoringRun, *, until, timeout: float = 90.0, worker=None) -> ScoringRun:
    def fetch() -> ScoringRun:
        run.refresh_from_db()
        return run

    return wait_until(
        fetch,
        until,
        timeout=timeout,
        interval=0.05,
        describe=lambda r: f"run {r.pk} stuck in {r.status} ({r.progress}): {r.error}\n{worker.log() if worker else ''}",
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_run_through_a_real_worker_and_resume_after_the_worker_is_killed(celery_worker, user, make_dataset):
    dataset = make_dataset(owner=user, n=240)
    # queued before any worker exists: the chunks wait in Redis
    run = scoring_run_start(
        dataset=dataset, scorers=["mtld", "hdd", "language_match", "flesch_reading_ease"], user=user, chunk_rows=4
    )
    assert run.status == "queued" and run.chunks.count() == 60

    worker = celery_worker(queues=["scoring"])
    done = lambda r: r.chunks.filter(status=ScoringChunk.Status.DONE).count()  # noqa: E731
    _wait(run, until=lambda r: done(r) >= 3, worker=worker)
    worker.kill()  # SIGKILL mid-run: its current chunk stays "running", its message unacknowledged
    run.refresh_from_db()
    finished_before_kill = done(run)
    assert run.status == "running" and finished_before_kill < 60, "the run finished before the kill"

    run = scoring_run_resume(run=run, user=user)  # re-enqueues only chunks not done
    worker = celery_worker(queues=["scoring"])
    run = _wait(run, until=lambda r: r.status in ("succeeded", "failed"), worker=worker)
    assert run.status == "succeeded", run.error
    chunks = list(run.chunks.all())
    assert all(c.status == "done" for c in chunks)
    # chunks finished before the kill were not redone
    assert sum(c.attempts for c in chunks) >= 60
    assert sum(1 for c in chunks if c.attempts == 1) >= finished_before_kill
    scores = pq.read_table(default_storage.path(run.scores_file)).to_pydict()
    assert scores["idx"] == list(range(240))  # every sample exactly once
    assert ScoreAggregate.objects.get(run=run, scorer="mtld").count == 240
