"""Build the training/evaluation demo and run its jobs; prints the per-dataset ranking and timings."""
from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from arena.errors import ArenaError
from training.demo.services import DEMO_SEEDS, demo_build, demo_ranking


class Command(BaseCommand):
    help = "Register demo benchmarks, datasets and base models, train the tiny model on each dataset and rank them."

    def add_arguments(self, parser):
        parser.add_argument("--owner", default="demo", help="username owning the demo datasets (created if missing)")
        parser.add_argument("--seeds", default=",".join(map(str, DEMO_SEEDS)), help="comma-separated seeds")
        parser.add_argument("--no-jobs", action="store_true", help="register everything but launch no job")

    def handle(self, *args, **options):
        try:
            seeds = [int(s) for s in options["seeds"].split(",") if s.strip()]
        except ValueError:
            raise CommandError(f"--seeds must be comma-separated integers, got {options['seeds']!r}") from None
        owner, _ = get_user_model().objects.get_or_create(username=options["owner"])
        started = time.perf_counter()
        try:
            build = demo_build(owner=owner, seeds=seeds, run_jobs=not options["no_jobs"])
        except ArenaError as exc:
            raise CommandError(exc.message) from None
        elapsed = time.perf_counter() - started
        self.stdout.write(f"datasets: {', '.join(d.slug for d in build.datasets.values())}")
        self.stdout.write(f"benchmarks: {', '.join(b.slug for b in build.benchmarks)}")
        if options["no_jobs"]:
            return
        statuses = [j.status for j in build.jobs]
        self.stdout.write(f"{len(build.jobs)} jobs: " + ", ".join(f"{s}={statuses.count(s)}" for s in sorted(set(statuses))))
        self.stdout.write(f"wall time {elapsed:.1f}s (jobs run in-process unless a broker is configured)")
        for row in demo_ranking(build=build):
            self.stdout.write(f"{row['mean']:.3f} ± {row['stdev']:.3f}  ({row['runs']} runs)  {row['name']}")
