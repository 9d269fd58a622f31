"""Training and evaluation: base models, recipes, benchmarks, jobs and their results."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """A model to fine-tune: a local directory, a local GGUF file, or a config for a from-scratch tiny model."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    path = models.CharField(max_length=500, help_text="local HF directory, 'gguf:<file>' or 'tiny:<json config>'")
    revision = models.CharField(max_length=100, blank=True)
    parameter_count = models.BigIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Recipe(models.Model):
    class Scheduler(models.TextChoices):
        COSINE = "cosine"
        LINEAR = "linear"
        CONSTANT = "constant"

    class Method(models.TextChoices):
        FULL = "full"
        LORA = "lora"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    learning_rate = models.FloatField()
    epochs = models.FloatField(default=1.0)
    batch_size = models.PositiveIntegerField(default=8)
    gradient_accumulation = models.PositiveIntegerField(default=1)
    max_length = models.PositiveIntegerField(default=512)
    scheduler = models.CharField(max_length=20, choices=Scheduler.choices, default=Scheduler.COSINE)
    warmup_ratio = models.FloatField(default=0.03)
    weight_decay = models.FloatField(default=0.0)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.FULL)
    lora_rank = models.PositiveIntegerField(default=16)
    lora_alpha = models.PositiveIntegerField(default=32)
    max_samples = models.PositiveIntegerField(null=True, blank=True, help_text="train on at most this many samples")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Benchmark(models.Model):
    class Domain(models.TextChoices):
        GENERAL = "general"
        MATH = "math"
        CODE = "code"
        REASONING = "reasoning"

    class Kind(models.TextChoices):
        GENERATION = "generation", "generate, then exact/numeric match"
        MULTIPLE_CHOICE = "multiple_choice", "multiple choice by log-likelihood"
        CODE = "code", "generate code, execute tests"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    domain = models.CharField(max_length=20, choices=Domain.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    metric = models.CharField(max_length=40, help_text="exact_match, numeric_match, accuracy, pass@1")
    items_file = models.CharField(max_length=500, help_text="storage name of the JSONL/Parquet item file")
    item_count = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain", "name"]

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    """Fine-tune ``base_model`` on ``dataset`` with ``recipe`` and ``seed``, then evaluate.

    A job with no dataset evaluates the base model itself: the reference row of the leaderboard.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    dataset = models.ForeignKey("arena.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    base_model = models.ForeignKey(BaseModel, on_delete=models.PROTECT, related_name="jobs")
    recipe = models.ForeignKey(Recipe, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    seed = models.IntegerField(default=0)
    benchmarks = models.ManyToManyField(Benchmark, blank=True, related_name="jobs")
    batch = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="jobs launched together share a batch")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=40, blank=True, help_text="training, evaluating <benchmark>, ...")
    logs = models.TextField(blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)

    device = models.CharField(max_length=100, blank=True)
    environment = models.JSONField(default=dict, blank=True, help_text="torch/transformers versions, GPU name")
    config_hash = models.CharField(max_length=64, blank=True, db_index=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="train loss, tokens/s, MFU ...")
    checkpoint_dir = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Lease (arena.leases): the worker running this job and its last heartbeat (null: nobody holds it);
    # ``waiting``: what it waits for ("waiting for the broker ...") while infrastructure is unreachable.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    waiting = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["base_model", "status"])]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.dataset_id} x {self.base_model_id} seed {self.seed}"


class EvalResult(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="results")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="results")
    score = models.FloatField(help_text="in [0, 1]")
    n_items = models.PositiveIntegerField()
    stderr = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["benchmark__name"]
        constraints = [models.UniqueConstraint(fields=["job", "benchmark"], name="one_result_per_job_benchmark")]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.benchmark_id}: {self.score:.3f}"
