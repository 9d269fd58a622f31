"""The embedded demo, end to end: what a new user meets first.

Each step calls the same services the API calls; nothing is hard-coded. The datasets come from
``training.demo`` (generated task family: clean, noisy labels, heavy duplicates, a mix), so the
leaderboard that results is a real measurement of their value.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from arena.models import Dataset

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
DIVERSE_NAME = "Demo arithmetic+logic (clean), diverse half"
# Samples per demo dataset: enough for the tiny model to separate clean from noisy data (see docs/training.md),
# few enough that scoring and 18 training runs fit in minutes on 2 CPU cores.
DEMO_SIZE = 1000
# The embedding scorers the demo always runs (one MiniLM pass each): kNN distance picks the "diverse half",
# near-duplicate similarity exposes the duplicated set. The other embedding and set-geometry scorers re-embed every
# sample each (a minute or more per scorer on 2 cores): opt-in with ``all_embedding_scorers``.
DEMO_EMBEDDING_SCORERS = frozenset({"knn_distance", "near_duplicate"})
MANAGE_PY = Path(__file__).resolve().parent.parent / "manage.py"

Say = Callable[[str], None]


class DemoError(Exception):
    """A demo step did not produce its result (the message says which and why)."""


@dataclass(frozen=True)
class DemoPlan:
    seeds: tuple[int, ...] = (0, 1, 2)
    model_scorers: bool = True  # the embedding (MiniLM) scorers of DEMO_EMBEDDING_SCORERS
    all_embedding_scorers: bool = False  # every embedding and set-geometry scorer
    # Causal-LM scorers (SmolLM2-135M): ~150-350 tokens/s on 2 CPU cores, i.e. tens of minutes for the
    # demo's 8,000+ samples, so they are opt-in on a CPU.
    lm_scorers: bool = False
    training: bool = True
    size: int = DEMO_SIZE  # samples per demo dataset
    progress: bool = True  # progress bars (tqdm, on stderr) for scoring and training
    # Training jobs run at once, each in its own process (``manage.py training_run_job``, one torch thread);
    # 1 runs them one after the other in this process.
    training_processes: int = 1


def demo_scorer_names(*, plan: DemoPlan) -> list[str]:
    """Every registered scorer that runs on a CPU without an external service or a configured model path, as the
    plan allows (causal-LM and gradient scorers run SmolLM2: only with ``lm_scorers``)."""
    from arena.errors import InvalidInput
    from scoring.scorers.base import scorer_classes
    from scoring.scorers.gradient_proxy import GradientScorer
    from scoring.scorers.perplexity import LanguageModelScorer

    names = []
    for name, cls in scorer_classes().items():
        meta = cls.meta
        if meta.needs_model and not plan.model_scorers:
            continue
        if meta.needs_model and not plan.all_embedding_scorers and name not in DEMO_EMBEDDING_SCORERS and not (
            plan.lm_scorers and issubclass(cls, (LanguageModelScorer, GradientScorer))
        ):
            continue
        if issubclass(cls, (LanguageModelScorer, GradientScorer)) and not plan.lm_scorers:
            continue
        try:
            cls(config={})  # refuses without an endpoint (judges) or a model path (reward model, classifier)
        except InvalidInput:
            continue
        names.append(name)
    return names


def _score(*, owner, dataset: Dataset, scorer_names: list[str], say: Say) -> None:
    from scoring.models import ScoringRun
    from scoring.services import scoring_run_start

    done = ScoringRun.objects.filter(dataset=dataset, status=ScoringRun.Status.SUCCEEDED).order_by("-id").first()
    if done is not None and {s["name"] for s in done.scorers} >= set(scorer_names):
        say(f"  {dataset.slug}: already scored (run {done.pk})")
        return
    run = scoring_run_start(dataset=dataset, scorers=[{"name": n} for n in scorer_names], user=owner)
    run.refresh_from_db()
    say(f"  {dataset.slug}: scoring run {run.pk} {run.status} ({len(scorer_names)} scorers, {dataset.sample_count} samples)")
    if run.status != ScoringRun.Status.SUCCEEDED:
        raise DemoError(f"scoring run {run.pk} on {dataset.slug} ended {run.status}: {run.error}")


def _bar(*, plan: DemoPlan, total: int, unit: str, desc: str) -> tqdm:
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=not plan.progress, leave=True,
                dynamic_ncols=True, mininterval=0.5)


def _score_all(*, owner, plan: DemoPlan, datasets: list[Dataset], scorer_names: list[str], say: Say) -> None:
    """Score ``datasets`` one after the other, with a progress bar in samples."""
    with _bar(plan=plan, total=sum(d.sample_count or 0 for d in datasets), unit="sample", desc="scoring") as bar:
        for dataset in datasets:
            bar.set_postfix_str(dataset.slug)
            _score(owner=owner, dataset=dataset, scorer_names=scorer_names, say=say)
            bar.update(dataset.sample_count or 0)


def _diverse_subset(*, owner, parent: Dataset, say: Say) -> Dataset:
    """Export the more diverse half of ``parent`` (kNN distance at or above its median): a 'filtered from' child."""
    from scoring.selectors import dataset_score_summary
    from scoring.subset_services import scores_export_subset

    existing = Dataset.objects.filter(owner=owner, name=DIVERSE_NAME).exclude(status=Dataset.Status.FAILED).first()
    if existing:
        return existing
    knn = next(s for s in dataset_score_summary(dataset=parent) if s["scorer"] == "knn_distance")
    threshold = knn["median"]
    child = scores_export_subset(
        dataset=parent,
        user=owner,
        name=DIVERSE_NAME,
        filters=[f"knn_distance.raw:{threshold}:"],
        visibility="public",
        ingest_now=True,
    )
    say(f"  exported {child.slug}: {child.sample_count} of {parent.sample_count} samples with kNN distance >= {threshold:.4f}")
    return child


def _contamination(*, owner, datasets: list[Dataset], benchmarks, say: Say) -> None:
    from lineage.models import ContaminationFinding
    from lineage.services import contamination_scan_request

    for dataset in datasets:
        todo = [b for b in benchmarks if not ContaminationFinding.objects.filter(dataset=dataset, benchmark=b).exists()]
        if todo:
            contamination_scan_request(user=owner, dataset=dataset, benchmarks=todo)
        hits = ContaminationFinding.objects.filter(dataset=dataset, items_contaminated__gt=0).count()
        say(f"  {dataset.slug}: scanned against {len(benchmarks)} benchmarks, {hits} with overlapping items")


def _leaderboard_lines(*, owner, base_model) -> list[str]:
    from training.leaderboard.selectors import leaderboard_get

    board = leaderboard_get(viewer=owner, base_model=base_model.slug)
    lines = [f"Leaderboard, base model {base_model.name} (overall score, 95% bootstrap CI over seeds):"]
    if board.reference:
        lines.append(f"  base  {board.reference['score']:.3f}                 {base_model.name} (no fine-tuning)")
    for row in board.rows:
        lines.append(
            f"  #{row['rank']:<3} {row['score']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}] "
            f"delta {row['delta']:+.3f}  {row['name']}"
        )
    return lines


def _train_in_processes(*, owner, build, jobs, plan: DemoPlan, bar: tqdm) -> list:
    """Queue every job that has no succeeded twin, then run them in ``plan.training_processes`` processes at once
    (``manage.py training_run_job <ids>``, the multi-machine entry point, one torch thread each): each process
    starts once and runs its share of the jobs; the bar moves as each job ends."""
    from django.conf import settings

    from training.demo.services import demo_job_queue
    from training.models import Job

    queued = [demo_job_queue(owner=owner, build=build, dataset=d, recipe=r, seed=s) for d, r, s in jobs]
    todo = [job for job in queued if job.status != Job.Status.SUCCEEDED]
    bar.update(len(queued) - len(todo))
    log_path = Path(settings.VAR_DIR) / "demo-training.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "arena.settings"),
           "ARENA_CPU_THREADS": "1", "PYTHONWARNINGS": "ignore", "TRANSFORMERS_VERBOSITY": "error",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}
    shares = [todo[i::plan.training_processes] for i in range(plan.training_processes)]  # cheap base runs spread

    def run_share(share: list) -> int:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, str(MANAGE_PY), "training_run_job", *(str(job.pk) for job in share)],
                env=env, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True,
            )
            for line in process.stdout:  # "job 12: succeeded"
                log.write(line.encode())
                log.flush()
                if line.startswith("job "):
                    bar.set_postfix_str(line.strip())
                    bar.update(1)
            return process.wait()

    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        codes = list(pool.map(run_share, [share for share in shares if share]))
    for job in queued:
        job.refresh_from_db()
    if any(codes):
        failed = next(job for job in queued if job.status != Job.Status.SUCCEEDED)
        raise DemoError(f"training job {failed.pk} ended {failed.status}: {failed.error or 'see ' + str(log_path)}")
    return queued


def demo_run(*, owner, plan: DemoPlan, say: Say) -> list[str]:
    from lineage.models import LineageEdge
    from training.demo.services import demo_build, demo_job_plan, demo_job_run

    say("1/5 registering benchmarks, base models and demo datasets (with declared lineage)")
    build = demo_build(owner=owner, seeds=plan.seeds, run_jobs=False, size=plan.size)
    datasets = list(build.datasets.values())
    for dataset in datasets:
        say(f"  {dataset.slug}: {dataset.status}, {dataset.sample_count} samples")

    names = demo_scorer_names(plan=plan)
    say(f"2/5 scoring every sample on {len(names)} axes: {', '.join(names)}")
    _score_all(owner=owner, plan=plan, datasets=datasets, scorer_names=names, say=say)
    if "knn_distance" in names:
        # The arena's own question: does keeping the more diverse half of the clean set help or hurt?
        # The subset is scored and trained like the others, so the leaderboard answers it.
        diverse = _diverse_subset(owner=owner, parent=build.datasets["clean"], say=say)
        _score_all(owner=owner, plan=plan, datasets=[diverse], scorer_names=names, say=say)
        datasets.append(diverse)

    say("3/5 lineage: overlap index (inferred edges) and benchmark contamination")
    every = list(Dataset.objects.filter(owner=owner, status=Dataset.Status.READY))
    _contamination(owner=owner, datasets=every, benchmarks=build.benchmarks, say=say)
    inferred = LineageEdge.objects.filter(origin=LineageEdge.Origin.INFERRED, superseded_at__isnull=True)
    for edge in inferred.select_related("child", "parent"):
        say(f"  inferred {edge.relation} (confidence {edge.confidence:.2f}): {edge.parent.slug} -> {edge.child.slug}")

    if not plan.training:
        return ["training skipped (--no-training)"]
    jobs = demo_job_plan(build=build, seeds=plan.seeds, datasets=datasets)
    say(f"4/5 training and evaluating the tiny proxy model: {len(jobs)} jobs "
        f"({len(datasets)} datasets + base, seeds {plan.seeds})")
    with _bar(plan=plan, total=len(jobs), unit="job", desc="training") as bar:
        if plan.training_processes > 1:
            build.jobs.extend(_train_in_processes(owner=owner, build=build, jobs=jobs, plan=plan, bar=bar))
        else:
            for dataset, recipe, seed in jobs:
                bar.set_postfix_str(f"{dataset.slug if dataset else 'base model'} seed {seed}")
                build.jobs.append(demo_job_run(owner=owner, build=build, dataset=dataset, recipe=recipe, seed=seed))
                bar.update(1)
    failed = [job for job in build.jobs if job.status != "succeeded"]
    if failed:
        raise DemoError(f"{len(failed)} demo job(s) did not succeed, e.g. job {failed[0].pk}: {failed[0].error}")

    say("5/5 leaderboard")
    return _leaderboard_lines(owner=owner, base_model=build.tiny)
