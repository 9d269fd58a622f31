"""Re-queue work whose worker stopped beating (what celery beat runs every ARENA_SWEEP_SECONDS).

    manage.py arena_sweep              # one sweep, prints what it did
    manage.py arena_sweep --every 60   # sweep forever (the demo, or a deployment without celery beat)
"""
from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from arena.sweeps import sweep_stale_work


class Command(BaseCommand):
    help = "Re-queue ingests, scoring chunks and training jobs whose worker's heartbeat is older than the lease."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="sweep every N seconds until stopped")

    def handle(self, *args, every: float, **options):
        while True:
            close_old_connections()
            try:
                report = sweep_stale_work()
                self.stdout.write(json.dumps(report, default=str))
            except Exception as exc:  # e.g. the database is briefly gone: try again next time
                self.stderr.write(f"sweep failed: {type(exc).__name__}: {exc}")
                if not every:
                    raise
            if not every:
                return
            time.sleep(every)
