"""Build the complete embedded demo: datasets with lineage, scores, inferred lineage, contamination,
trained and evaluated proxy models (3 seeds) and the leaderboard. Idempotent: re-running reuses what exists.

    manage.py arena_demo                # everything that runs well on a CPU
    manage.py arena_demo --lm-scorers   # also perplexity/IFD with SmolLM2-135M (slow on a CPU: ~150-350 tokens/s)
    manage.py arena_demo --quick        # one seed, heuristic scorers only (a smoke test)
"""
from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from arena.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoError, DemoPlan, demo_run
from arena.errors import ArenaError


class Command(BaseCommand):
    help = "Build the embedded demo (datasets, scores, lineage, proxy training, leaderboard) with real results."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quick", action="store_true", help="one seed and heuristic scorers only")
        parser.add_argument("--seeds", default="", help="comma-separated training seeds (default 0,1,2)")
        parser.add_argument(
            "--lm-scorers", action="store_true", help="also run the causal-LM scorers (perplexity, IFD) with SmolLM2-135M"
        )
        parser.add_argument("--no-training", action="store_true", help="register, score and trace only")

    def handle(self, *args, **options) -> None:
        try:
            seeds = tuple(int(s) for s in options["seeds"].split(",") if s.strip())
        except ValueError:
            raise CommandError(f"--seeds must be comma-separated integers, got {options['seeds']!r}") from None
        plan = DemoPlan(
            seeds=seeds or ((0,) if options["quick"] else (0, 1, 2)),
            model_scorers=not options["quick"],
            lm_scorers=options["lm_scorers"] and not options["quick"],
            training=not options["no_training"],
        )
        User = get_user_model()
        owner, created = User.objects.get_or_create(username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True})
        if created or not owner.has_usable_password():
            owner.set_password(DEMO_PASSWORD)
            owner.is_staff = owner.is_superuser = True
            owner.save()
        started = time.perf_counter()

        def say(message: str) -> None:
            self.stdout.write(f"[{time.perf_counter() - started:7.1f}s] {message}")
            self.stdout.flush()

        try:
            summary = demo_run(owner=owner, plan=plan, say=say)
        except ArenaError as exc:
            raise CommandError(exc.message) from None
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        say("done")
        for line in summary:
            self.stdout.write(line)
        self.stdout.write(f"log in as {DEMO_USERNAME} / {DEMO_PASSWORD}")
