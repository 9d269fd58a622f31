"""The scoring engine end to end (eager Celery): chunking, merge, aggregates, crash + resume, bad input."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from arena.errors import InvalidInput
from arena.models import Dataset
from arena.storage import read_rows
from scoring import chunk_scoring
from scoring.models import ScoreAggregate, ScoringChunk, ScoringRun
from scoring.scorers.base import SampleText, Scorer, ScorerMeta, build_scorer, register
from scoring.selectors import dataset_score_summary
from scoring.services import scoring_run_resume, scoring_run_start


@register
class _FakeDatasetScope(Scorer):
    """A scope="dataset" scorer that yields in reverse order: the engine must put the scores back in idx order."""

    meta = ScorerMeta(
        name="test_reverse_rank",
        axis="diversity",
        reads="A",
        raw_range=(0, 1000),
        higher_is_better=True,
        needs_model=False,
        version="t1",
        description="test only",
        scope="dataset",
    )

    def score_dataset_samples(self, batches):
        seen = [s.idx for batch in batches for s in batch]
        for idx in reversed(seen):
            yield idx, float(idx * 10)


@register
class _FakeSetwise(Scorer):
    meta = ScorerMeta(
        name="test_set_size",
        axis="diversity",
        reads="A",
        raw_range=(0, 1000),
        higher_is_better=True,
        needs_model=False,
        version="t1",
        description="test only",
        scope="setwise",
    )

    def score_set(self, batches):
        return {"value": float(sum(len(b) for b in batches)), "note": "counted"}


def _scores(run: ScoringRun):
    return pq.read_table(default_storage.path(run.scores_file)).to_pydict()


@pytest.mark.django_db
def test_run_scores_every_sample_once_in_several_chunks(user, make_dataset):
    dataset = make_dataset(owner=user, n=23)
    specs = [{"name": "mtld"}, {"name": "python_syntax"}, {"name": "unique_ngram_ratio", "config": {"n": 1}}]
    run = scoring_run_start(dataset=dataset, scorers=specs, user=user, chunk_rows=5)
    assert run.status == ScoringRun.Status.SUCCEEDED, run.error
    assert run.progress == 1.0
    chunks = list(run.chunks.order_by("start"))
    assert [(c.start, c.end) for c in chunks] == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 23)]
    assert all(c.status == "done" and c.attempts == 1 for c in chunks)
    assert not any(default_storage.exists(c.output_name) for c in chunks)  # merged, then removed

    scores = _scores(run)
    assert scores["idx"] == list(range(23))
    samples = read_rows(dataset.samples_file, offset=0, limit=23)
    for spec in specs:
        scorer = build_scorer(spec["name"], config=spec.get("config"))
        expected = scorer.score_batch(
            [SampleText(idx=r["idx"], instruction=r["instruction"], response=r["response"]) for r in samples]
        )
        assert scores[spec["name"]] == pytest.approx(expected, nan_ok=True)
        assert scores[spec["name"] + "__norm"] == [scorer.normalise(v) for v in expected]

    # every score output records version, config hash and model identity
    recorded = {s["name"]: s for s in run.scorers}
    assert recorded["unique_ngram_ratio"]["config"] == {"n": 1}
    assert (
        recorded["unique_ngram_ratio"]["config_hash"]
        == build_scorer("unique_ngram_ratio", config={"n": 1}).config_hash()
    )
    assert recorded["mtld"]["version"] == "1" and recorded["mtld"]["model_identity"] == {}
    assert set(run.timings) == {"mtld", "python_syntax", "unique_ngram_ratio", "finalize"}
    provenance = pq.read_schema(default_storage.path(run.scores_file)).metadata
    assert json.loads(provenance[b"arena.scorers"]) == run.scorers and provenance[b"arena.run"] == str(run.pk).encode()

    aggregate = ScoreAggregate.objects.get(run=run, scorer="mtld")
    raw = np.array(scores["mtld"], dtype=float)
    assert aggregate.count == 23 and aggregate.null_count == 0
    assert aggregate.median == pytest.approx(np.median(raw))
    assert aggregate.p10 == pytest.approx(np.percentile(raw, 10))
    assert aggregate.mean == pytest.approx(raw.mean())
    assert sum(aggregate.histogram) == 23 and len(aggregate.histogram) == 20
    code = ScoreAggregate.objects.get(run=run, scorer="python_syntax")
    assert code.null_count == sum(v is None for v in scores["python_syntax"]) > 0
    assert code.count + code.null_count == 23


@pytest.mark.django_db
def test_dataset_and_setwise_scopes_run_as_whole_file_chunks(user, make_dataset):
    dataset = make_dataset(owner=user, n=12)
    run = scoring_run_start(
        dataset=dataset, scorers=["test_reverse_rank", "test_set_size", "zlib_ratio"], user=user, chunk_rows=5
    )
    assert run.status == "succeeded", run.error
    groups = sorted((c.group, c.start, c.end) for c in run.chunks.all())
    assert groups == [
        ("sample", 0, 5),
        ("sample", 5, 10),
        ("sample", 10, 12),
        ("test_reverse_rank", 0, 12),
        ("test_set_size", 0, 12),
    ]
    scores = _scores(run)
    assert scores["idx"] == list(range(12))
    assert scores["test_reverse_rank"] == [float(i * 10) for i in range(12)]
    assert "test_set_size" not in scores
    setwise = ScoreAggregate.objects.get(run=run, scorer="test_set_size")
    assert setwise.set_value == 12.0 and setwise.details == {"note": "counted"}


@pytest.mark.django_db
def test_latest_aggregate_is_current_and_history_is_kept(user, make_dataset):
    dataset = make_dataset(owner=user, n=6)
    first = scoring_run_start(dataset=dataset, scorers=["hdd"], user=user)
    second = scoring_run_start(dataset=dataset, scorers=["hdd", "token_entropy"], user=user)
    rows = ScoreAggregate.objects.filter(dataset=dataset, scorer="hdd").order_by("id")
    assert [(a.run_id, a.is_current) for a in rows] == [(first.pk, False), (second.pk, True)]
    summary = dataset_score_summary(dataset=dataset)
    assert sorted(s["scorer"] for s in summary) == ["hdd", "token_entropy"]
    hdd = next(s for s in summary if s["scorer"] == "hdd")
    assert hdd["run"] == second.pk and set(hdd) >= {"axis", "mean", "median", "p10", "p90", "histogram", "normalised"}


@pytest.mark.django_db
def test_same_sample_gets_the_same_normalised_score_in_two_datasets(user, make_dataset):
    a = make_dataset(owner=user, n=8, name="A", tag="-same")
    b = make_dataset(owner=user, n=3, name="B", tag="-same")  # its 3 samples are A's first 3
    run_a = scoring_run_start(dataset=a, scorers=["mtld", "response_tokens"], user=user)
    run_b = scoring_run_start(dataset=b, scorers=["mtld", "response_tokens"], user=user)
    sa, sb = _scores(run_a), _scores(run_b)
    for column in ("mtld__norm", "response_tokens__norm"):
        assert sa[column][:3] == sb[column]


class WorkerCrash(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no error is recorded."""


@pytest.mark.django_db
def test_crashed_chunk_is_redone_on_resume_without_duplicates(user, make_dataset, monkeypatch):
    dataset = make_dataset(owner=user, n=23)
    calls: list[int] = []
    crashed: list[bool] = []
    real = chunk_scoring.score_sample_range

    def crashing(**kwargs):
        calls.append(kwargs["start"])
        if kwargs["start"] == 10 and not crashed:
            crashed.append(True)
            real(**kwargs)  # the output is even written: the crash comes before the chunk is marked done
            raise WorkerCrash()
        return real(**kwargs)

    monkeypatch.setattr(chunk_scoring, "score_sample_range", crashing)
    with pytest.raises(WorkerCrash):
        scoring_run_start(dataset=dataset, scorers=["mtld", "zlib_ratio"], user=user, chunk_rows=5)
    run = ScoringRun.objects.get(dataset=dataset)
    status = {c.start: c.status for c in run.chunks.all()}
    assert status == {0: "done", 5: "done", 10: "running", 15: "pending", 20: "pending"}
    assert run.status == "running" and run.progress == pytest.approx(10 / 23, abs=1e-4)

    calls.clear()
    run = scoring_run_resume(run=run, user=user)
    assert run.status == "succeeded", run.error
    assert sorted(calls) == [10, 15, 20]  # only the unfinished chunks
    attempts = {c.start: c.attempts for c in run.chunks.all()}
    assert attempts == {0: 1, 5: 1, 10: 2, 15: 1, 20: 1}
    scores = _scores(run)
    assert scores["idx"] == list(range(23))
    assert ScoreAggregate.objects.get(run=run, scorer="mtld").count == 23


@pytest.mark.django_db
def test_failing_scorer_fails_the_run_with_the_reason_and_resume_recovers(user, make_dataset, monkeypatch):
    dataset = make_dataset(owner=user, n=10)
    from scoring.scorers.entropy import TokenEntropy

    original = TokenEntropy.score_batch

    def broken(self, samples: Sequence[SampleText]):
        if samples[0].idx >= 5:
            raise ValueError("boom in entropy")
        return original(self, samples)

    monkeypatch.setattr(TokenEntropy, "score_batch", broken)
    run = scoring_run_start(dataset=dataset, scorers=["token_entropy"], user=user, chunk_rows=5)
    assert run.status == "failed"
    assert "chunk sample rows 5-10" in run.error and "boom in entropy" in run.error
    assert run.chunks.get(start=5).status == "failed"
    assert not ScoreAggregate.objects.filter(run=run).exists()
    monkeypatch.setattr(TokenEntropy, "score_batch", original)
    run = scoring_run_resume(run=run, user=user)
    assert run.status == "succeeded" and run.error == ""


@pytest.mark.django_db
def test_a_scorer_returning_a_wrong_number_of_scores_fails_loudly(user, make_dataset, monkeypatch):
    from scoring.scorers.compression import ZlibRatio

    monkeypatch.setattr(ZlibRatio, "score_batch", lambda self, samples: [0.5])
    dataset = make_dataset(owner=user, n=4)
    run = scoring_run_start(dataset=dataset, scorers=["zlib_ratio"], user=user)
    assert run.status == "failed" and "returned 1 scores for 4 samples" in run.error


@pytest.mark.django_db
@pytest.mark.parametrize(
    "scorers, message",
    [
        ([{"name": "no_such_scorer"}], "unknown scorer 'no_such_scorer'; known scorers:"),
        ([{"name": "mtld", "config": {"window": 3}}], "does not accept option(s) window; accepted: threshold"),
        ([{"name": "repetition", "config": {"n": "two"}}], "option 'n' must be an integer"),
        ([{"name": "mtld"}, {"name": "mtld"}], "listed twice"),
        ([], "choose at least one scorer"),
        ([{"name": "mtld", "options": {}}], "unknown key(s) options"),
        ([{"name": "mtld", "config": [1]}], "config must be an object"),
    ],
)
def test_bad_scorer_specs_are_refused_before_anything_is_written(user, make_dataset, scorers, message):
    dataset = make_dataset(owner=user, n=3)
    with pytest.raises(InvalidInput) as excinfo:
        scoring_run_start(dataset=dataset, scorers=scorers, user=user)
    assert message in excinfo.value.message
    assert not ScoringRun.objects.exists() and not ScoringChunk.objects.exists()


@pytest.mark.django_db
def test_dataset_not_ready_is_refused(user):
    dataset = Dataset.objects.create(name="Pending", slug="pending", owner=user, status=Dataset.Status.INGESTING)
    with pytest.raises(InvalidInput, match="'pending' is not ready to score \\(status: ingesting\\)"):
        scoring_run_start(dataset=dataset, scorers=["mtld"], user=user)
    assert not ScoringRun.objects.exists()


@pytest.mark.django_db
def test_bad_chunk_size_is_refused(user, make_dataset):
    dataset = make_dataset(owner=user, n=3)
    with pytest.raises(InvalidInput, match="chunk_rows must be a positive integer"):
        scoring_run_start(dataset=dataset, scorers=["mtld"], user=user, chunk_rows=0)


@pytest.mark.django_db
def test_cancelled_run_skips_its_chunks(user, other_user, make_dataset):
    from arena.errors import Conflict, Forbidden
    from scoring.chunk_services import scoring_chunk_execute
    from scoring.services import scoring_run_cancel

    dataset = make_dataset(owner=user, n=4)
    run = ScoringRun.objects.create(
        dataset=dataset,
        created_by=user,
        rows_total=4,
        scorers=[{"name": "mtld", "config": {}, "config_hash": build_scorer("mtld").config_hash(), "scope": "sample"}],
    )
    chunk = ScoringChunk.objects.create(
        run=run, group="sample", scorers=["mtld"], start=0, end=4, output_name="x.parquet"
    )
    with pytest.raises(Forbidden):
        scoring_run_cancel(run=run, user=other_user)
    run = scoring_run_cancel(run=run, user=user)
    assert run.status == "cancelled" and run.finished_at is not None
    assert scoring_chunk_execute(chunk_id=chunk.pk).status == "pending"  # skipped, not scored
    with pytest.raises(Conflict, match="only a queued, running or failed run can be cancelled"):
        scoring_run_cancel(run=run, user=user)
    with pytest.raises(Conflict, match="was cancelled"):
        scoring_run_resume(run=run, user=user)


@pytest.mark.django_db
def test_failed_merge_is_retried_by_resume_without_rescoring(user, make_dataset, monkeypatch):
    from scoring import chunk_services

    real_merge = chunk_services.merge_scores
    failures: list[bool] = []

    def flaky_merge(**kwargs):
        if not failures:
            failures.append(True)
            raise OSError("disk full")
        return real_merge(**kwargs)

    monkeypatch.setattr(chunk_services, "merge_scores", flaky_merge)
    dataset = make_dataset(owner=user, n=7)
    run = scoring_run_start(dataset=dataset, scorers=["hdd"], user=user, chunk_rows=3)
    assert run.status == "failed" and run.error == "finalize: OSError: disk full"
    assert all(c.status == "done" for c in run.chunks.all())
    run = scoring_run_resume(run=run, user=user)
    assert run.status == "succeeded"
    assert all(c.attempts == 1 for c in run.chunks.all())  # chunks were not scored again
    assert _scores(run)["idx"] == list(range(7))
