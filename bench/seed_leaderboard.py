"""Seed a throwaway PostgreSQL database with a leaderboard of the target size, fast.

1,000 datasets x 25 benchmarks x 3 base models x 3 seeds = 225,000 evaluation results (plus 3 x 3 x 25 for the
base models' own reference runs). Datasets, jobs and benchmarks go in with ``bulk_create`` (a few thousand rows);
the results with one PostgreSQL ``COPY`` (about 2 s instead of a minute of ``bulk_create``).

    .venv/bin/python bench/seed_leaderboard.py --db arena_bench_leaderboard [--reseed]

Used by ``bench/bench_leaderboard.py`` and ``bench/comparisons/leaderboard.py``. Never touches a database named
``arena`` or ``postgres``.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N_DATASETS, N_BENCHMARKS, N_BASE_MODELS, N_SEEDS = 1000, 25, 3, 3
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PROTECTED = {"arena", "postgres", "template0", "template1"}


def ensure_database(name: str, *, reseed: bool = False) -> bool:
    """Create the database if needed (drop it first with ``reseed``); True when it was (re)created."""
    import psycopg

    if name in PROTECTED:
        raise SystemExit(f"refusing to seed the database {name!r}: use a throwaway name")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    return False


def seed(*, n_datasets: int = N_DATASETS, n_benchmarks: int = N_BENCHMARKS, n_base_models: int = N_BASE_MODELS,
         n_seeds: int = N_SEEDS) -> int:
    """Create the board (Django must be set up on the target database); returns the number of results.
    Idempotent: an already seeded database is left as it is."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from arena.models import Dataset, Domain
    from training.models import BaseModel, Benchmark, EvalResult, Job

    if Dataset.objects.filter(slug__startswith="bench-ds-").count() == n_datasets:
        return EvalResult.objects.count()
    rng = np.random.default_rng(0)
    User = get_user_model()
    with transaction.atomic():
        owners = [User.objects.get_or_create(username=f"bench-user-{i}")[0] for i in range(5)]
        domains = [Domain.objects.get_or_create(name=n)[0] for n in ("general", "math", "code")]
        datasets = Dataset.objects.bulk_create([
            Dataset(name=f"Bench dataset {i}", slug=f"bench-ds-{i}", owner=owners[i % 5], status="ready",
                    visibility="private" if i % 10 == 0 else "public", sample_count=int(rng.integers(500, 200_000)),
                    source_url=f"https://example.org/datasets/{i}")
            for i in range(n_datasets)
        ])
        Through = Dataset.domains.through
        Through.objects.bulk_create([Through(dataset_id=d.pk, domain_id=domains[i % len(domains)].pk)
                                     for i, d in enumerate(datasets)])
        domain_names = ["general", "math", "code", "reasoning"]
        benchmarks = Benchmark.objects.bulk_create([
            Benchmark(name=f"Bench {j}", slug=f"bench-{j}", domain=domain_names[j % 4], kind="generation",
                      metric="exact_match", items_file=f"bench/{j}.jsonl") for j in range(n_benchmarks)
        ])
        base_models = BaseModel.objects.bulk_create([
            BaseModel(name=f"Bench base {m}", slug=f"bench-base-{m}", path="tiny:{}") for m in range(n_base_models)
        ])
        quality = rng.normal(0.05, 0.05, size=n_datasets)
        columns = ("job_id", "benchmark_id", "score", "n_items", "details", "generation_settings", "num_fewshot",
                   "stderr", "created_at")
        # text columns without a database default: written empty, as the ORM would
        text_blank = [f.column for f in EvalResult._meta.concrete_fields
                      if f.get_internal_type() in ("CharField", "TextField") and f.column not in columns]
        buf = io.StringIO()
        total = 0
        for bm in base_models:
            owners_of = [None] + list(range(n_datasets))
            jobs = Job.objects.bulk_create(
                [Job(dataset=None if i is None else datasets[i], base_model=bm, seed=s, status="succeeded")
                 for i in owners_of for s in range(n_seeds)],
                batch_size=5000,
            )
            base = rng.uniform(0.2, 0.6, size=n_benchmarks)
            lift = np.repeat(np.concatenate([[0.0], quality]), n_seeds)  # [jobs]
            scores = np.clip(base[None, :] + lift[:, None] + rng.normal(0, 0.02, size=(len(jobs), n_benchmarks)), 0, 1)
            blank = "\t" * len(text_blank)
            for job, row in zip(jobs, scores.tolist()):
                for b, s in zip(benchmarks, row):
                    buf.write(f"{job.pk}\t{b.pk}\t{s!r}\t100\t{{}}\t{{}}\t0\t\\N\tnow{blank}\n")
                    total += 1
        buf.seek(0)
        table = EvalResult._meta.db_table
        with connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {table} ({', '.join(columns + tuple(text_blank))}) FROM STDIN") as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)
    # fresh rows: the visibility map lets the leaderboard's index-only scans skip the heap (autovacuum would,
    # later); VACUUM cannot run in a transaction
    with connection.cursor() as cur:
        for model in (EvalResult, Job, Dataset):
            cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return total


def setup_django(db: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="arena_bench_leaderboard")
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    ensure_database(args.db, reseed=args.reseed)
    setup_django(args.db)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    n = seed()
    print(f"{n} results in {args.db} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
