"""Scoring state: runs, their chunks, and per-dataset score aggregates.

Per-sample scores live in Parquet files in storage (one per chunk while a run is
in progress, then one merged file per run); PostgreSQL keeps the run/chunk state
and the aggregates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ScoringRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        FINALIZING = "finalizing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.FINALIZING)

    dataset = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="scoring_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    #: [{"name", "config", "version", "config_hash", "model_identity", "scope", "axis", ...}] as validated at start
    scorers = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, help_text="rows done / rows to do, over all chunks")
    rows_total = models.BigIntegerField(default=0, help_text="samples in the dataset when the run started")
    chunk_rows = models.PositiveIntegerField(default=5000)
    error = models.TextField(blank=True)
    scores_file = models.CharField(max_length=500, blank=True, help_text="storage name of the merged scores Parquet")
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per scorer, summed over chunks; finalize")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Lease (arena.leases): the worker running this finalize and its last heartbeat (null: nobody holds it);
    # ``waiting``: what it waits for ("waiting for the broker ...") while infrastructure is unreachable.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    waiting = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"scoring run {self.pk} of {self.dataset_id} ({self.status})"

    @property
    def scorer_names(self) -> list[str]:
        return [spec["name"] for spec in self.scorers]


class ScoringChunk(models.Model):
    """One unit of work: a row range [start, end) scored by a group of scorers.

    Sample-scope scorers share chunks of ``chunk_rows`` rows (group "sample"); each dataset- or
    setwise-scope scorer gets one whole-file chunk (group = its name).
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="chunks")
    group = models.CharField(max_length=100)
    scorers = models.JSONField(default=list, help_text="names of the scorers this chunk runs")
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    output_name = models.CharField(
        max_length=500, blank=True, help_text="storage name of this chunk's scores Parquet (none for setwise)"
    )
    result = models.JSONField(default=dict, blank=True, help_text="setwise scorers: the dataset-level result")
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per scorer")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    # Lease (arena.leases): the worker running this chunk and its last heartbeat (null: nobody holds it);
    # ``waiting``: what it waits for ("waiting for the broker ...") while infrastructure is unreachable.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    waiting = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "group", "start"]
        constraints = [models.UniqueConstraint(fields=["run", "group", "start"], name="scoring_chunk_unique_range")]

    def __str__(self) -> str:
        return f"chunk {self.group}[{self.start}:{self.end}) of run {self.run_id}"

    @property
    def rows(self) -> int:
        return self.end - self.start


class ScoreAggregate(models.Model):
    """Dataset-level statistics of one scorer's output in one run.

    Statistics (mean, median, ...) are of the *raw* values; ``norm_mean``/``norm_median`` and the
    histogram are of the normalised [0, 1] values. For a setwise scorer ``set_value`` holds the
    dataset's value (``details`` the rest of its result) and the per-sample statistics stay empty.
    Only the newest aggregate per (dataset, scorer, config_hash) is ``is_current``; older ones are kept.
    """

    dataset = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="score_aggregates")
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="aggregates")
    scorer = models.CharField(max_length=100, db_index=True)
    scorer_version = models.CharField(max_length=40)
    config = models.JSONField(default=dict, blank=True)
    config_hash = models.CharField(max_length=32)
    model_identity = models.JSONField(default=dict, blank=True)
    axis = models.CharField(max_length=20)
    reads = models.CharField(max_length=2)
    scope = models.CharField(max_length=10, default="sample")
    higher_is_better = models.BooleanField(default=True)
    count = models.BigIntegerField(default=0, help_text="samples with a score")
    null_count = models.BigIntegerField(default=0, help_text="samples where the score is undefined (None)")
    mean = models.FloatField(null=True, blank=True)
    median = models.FloatField(null=True, blank=True)
    p10 = models.FloatField(null=True, blank=True)
    p90 = models.FloatField(null=True, blank=True)
    std = models.FloatField(null=True, blank=True)
    raw_min = models.FloatField(null=True, blank=True)
    raw_max = models.FloatField(null=True, blank=True)
    norm_mean = models.FloatField(null=True, blank=True)
    norm_median = models.FloatField(null=True, blank=True)
    histogram = models.JSONField(
        default=list, blank=True, help_text="counts of normalised values in 20 bins over [0, 1]"
    )
    set_value = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scorer", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "scorer", "config_hash"],
                condition=models.Q(is_current=True),
                name="score_aggregate_one_current",
            ),
            models.UniqueConstraint(fields=["run", "scorer"], name="score_aggregate_once_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.scorer} of {self.dataset_id} (run {self.run_id})"
