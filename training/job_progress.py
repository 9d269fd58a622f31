"""Progress, stage and log lines of a running job, written to its row at most every few seconds."""
from __future__ import annotations

import time

from django.utils import timezone

from training.models import Job

FLUSH_INTERVAL_S = 2.0
MAX_LOG_CHARS = 64_000  # the row keeps the tail of the log


class JobReporter:
    def __init__(self, job_id: int, *, interval: float = FLUSH_INTERVAL_S) -> None:
        self.job_id = job_id
        self.interval = interval
        self._pending: list[str] = []
        self._fields: dict = {}
        self._last_flush = 0.0

    def log(self, message: str) -> None:
        self._pending.append(f"{timezone.now():%Y-%m-%d %H:%M:%S} {message}")
        self.maybe_flush()

    def update(self, *, force: bool = False, **fields) -> None:
        """Record progress/stage/metrics; written now if ``force`` or the interval has passed."""
        self._fields.update(fields)
        self.maybe_flush(force=force)

    def maybe_flush(self, *, force: bool = False) -> None:
        if force or time.monotonic() - self._last_flush >= self.interval:
            self.flush()

    def flush(self) -> None:
        if not self._pending and not self._fields and time.monotonic() - self._last_flush < self.interval:
            return
        fields = dict(self._fields, heartbeat_at=timezone.now())  # the job's lease heartbeat (arena.leases)
        if self._pending:
            current = Job.objects.filter(pk=self.job_id).values_list("logs", flat=True).first() or ""
            fields["logs"] = (current + "\n".join(self._pending) + "\n")[-MAX_LOG_CHARS:]
        Job.objects.filter(pk=self.job_id).update(**fields)
        self._pending.clear()
        self._fields.clear()
        self._last_flush = time.monotonic()
