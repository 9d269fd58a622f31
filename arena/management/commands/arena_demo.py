"""Build the complete embedded demo: datasets with lineage, scores, inferred lineage, contamination,
trained and evaluated proxy models (3 seeds) and the leaderboard. Idempotent: re-running reuses what exists.

    manage.py arena_demo                          # heuristic scorers + kNN distance and near-duplicates, 3 seeds
    manage.py arena_demo --all-embedding-scorers  # also every other embedding / set-geometry scorer (MiniLM)
    manage.py arena_demo --lm-scorers             # also perplexity/IFD with SmolLM2-135M (slow on a CPU)
    manage.py arena_demo --quick                  # one seed, heuristic scorers only (a smoke test)
    manage.py arena_demo --size 100 --seeds 0     # a small demo (e.g. a test)
"""
from __future__ import annotations

import logging
import os
import time
import warnings

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from arena.demo import DEMO_PASSWORD, DEMO_SIZE, DEMO_USERNAME, DemoError, DemoPlan, demo_run
from arena.errors import ArenaError


class Command(BaseCommand):
    help = "Build the embedded demo (datasets, scores, lineage, proxy training, leaderboard) with real results."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quick", action="store_true", help="one seed and heuristic scorers only")
        parser.add_argument("--seeds", default="", help="comma-separated training seeds (default 0,1,2)")
        parser.add_argument(
            "--lm-scorers", action="store_true", help="also run the causal-LM scorers (perplexity, IFD) with SmolLM2-135M"
        )
        parser.add_argument(
            "--all-embedding-scorers", action="store_true",
            help="also every other embedding and set-geometry scorer (each re-embeds every sample with MiniLM)",
        )
        parser.add_argument("--no-training", action="store_true", help="register, score and trace only")
        parser.add_argument("--size", type=int, default=DEMO_SIZE, help=f"samples per demo dataset (default {DEMO_SIZE})")
        parser.add_argument(
            "--processes", type=int, default=0,
            help="training jobs run at once, one process each (default: one per CPU core, at most 4; 1: in this process)",
        )

    def handle(self, *args, **options) -> None:
        try:
            seeds = tuple(int(s) for s in options["seeds"].split(",") if s.strip())
        except ValueError:
            raise CommandError(f"--seeds must be comma-separated integers, got {options['seeds']!r}") from None
        if options["size"] < 20:
            raise CommandError(f"--size must be at least 20 samples, got {options['size']}")
        processes = options["processes"] or min(4, len(os.sched_getaffinity(0)))
        if processes < 1:
            raise CommandError(f"--processes must be at least 1, got {processes}")
        _quiet_libraries()
        plan = DemoPlan(
            seeds=seeds or ((0,) if options["quick"] else (0, 1, 2)),
            model_scorers=not options["quick"],
            lm_scorers=options["lm_scorers"] and not options["quick"],
            all_embedding_scorers=options["all_embedding_scorers"] and not options["quick"],
            training=not options["no_training"],
            size=options["size"],
            training_processes=processes,
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


def _quiet_libraries() -> None:
    """Silence what means nothing to a demo user: library warnings, model-loading bars, datasets/lm-eval INFO logs.
    The demo prints its own steps and progress bars; real errors still raise."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("datasets", "lm-eval", "lm_eval", "transformers", "sentence_transformers", "accelerate", "kombu.connection"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # transformers is a dependency; nothing to silence without it
        pass
