"""Training and evaluation: base models, recipes, benchmarks, jobs and their results."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from arena.domains import BENCHMARK_DOMAIN_CHOICES


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
        QLORA = "qlora", "qlora (4-bit base, needs bitsandbytes and CUDA)"

    class Precision(models.TextChoices):
        AUTO = "auto", "auto (bf16 on GPUs that support it, fp32 on CPU)"
        BF16 = "bf16"
        FP16 = "fp16"
        FP32 = "fp32"

    class Distributed(models.TextChoices):
        NONE = "none", "one process"
        DDP = "ddp", "data parallel (accelerate multi_gpu)"
        FSDP = "fsdp", "FSDP2 (accelerate)"
        ZERO3 = "zero3", "DeepSpeed ZeRO-3 (accelerate)"

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
    lora_dropout = models.FloatField(default=0.05)
    lora_target_modules = models.CharField(
        max_length=300, default="all-linear", help_text="'all-linear' or comma-separated module names"
    )
    max_grad_norm = models.FloatField(default=1.0)
    precision = models.CharField(max_length=10, choices=Precision.choices, default=Precision.AUTO)
    packing = models.BooleanField(default=False, help_text="pack several samples into each max_length sequence")
    gradient_checkpointing = models.BooleanField(default=False)
    distributed = models.CharField(
        max_length=10, choices=Distributed.choices, default=Distributed.NONE,
        help_text="the accelerate config a launched job uses (ARENA_TRAIN_LAUNCHER=accelerate)",
    )
    max_samples = models.PositiveIntegerField(null=True, blank=True, help_text="train on at most this many samples")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Benchmark(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    domain = models.CharField(max_length=20, choices=BENCHMARK_DOMAIN_CHOICES)  # the one vocabulary: arena.domains
    kind = models.CharField(max_length=40, help_text="a registered benchmark kind (training.evaluation.kinds)")
    metric = models.CharField(max_length=40, help_text="one of the kind's metrics (exact_match, accuracy, pass@1...)")
    items_file = models.CharField(max_length=500, help_text="storage name of the Parquet item file")
    items_sha256 = models.CharField(max_length=64, blank=True, help_text="hash of the uploaded item file")
    item_count = models.PositiveIntegerField(default=0)
    num_fewshot = models.PositiveSmallIntegerField(null=True, blank=True, help_text="empty: the kind's default")
    max_gen_toks = models.PositiveIntegerField(null=True, blank=True, help_text="empty: the kind's default")
    chat_template = models.BooleanField(null=True, blank=True, help_text="empty: the kind's default")
    limit = models.PositiveIntegerField(null=True, blank=True, help_text="evaluate only the first N items (a slice)")
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
    weights_dir = models.CharField(
        max_length=500, blank=True, help_text="kept fine-tuned weights (safetensors + tokenizer); empty when none"
    )

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
        indexes = [
            models.Index(fields=["base_model", "status"]),
            # the leaderboard's stamp, job list and results join read only these columns: index-only scans
            # (key columns rather than INCLUDE: the SQLite demo has no covering indexes and warns about them)
            models.Index(fields=["base_model", "status", "dataset", "id", "seed", "finished_at"], name="job_board_idx"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.dataset_id} x {self.base_model_id} seed {self.seed}"


class EvalResult(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="results")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="results")
    score = models.FloatField(help_text="in [0, 1]")
    n_items = models.PositiveIntegerField()
    stderr = models.FloatField(null=True, blank=True, help_text="as the harness reports it (empty: none reported)")
    details = models.JSONField(default=dict, blank=True)
    metric = models.CharField(max_length=80, blank=True, help_text="lm-eval's 'metric,filter' key of the score")
    harness_version = models.CharField(max_length=40, blank=True)
    backend = models.CharField(max_length=10, blank=True, help_text="hf | vllm")
    task_config = models.TextField(blank=True, help_text="the lm-eval task YAML that was run")
    task_config_hash = models.CharField(max_length=64, blank=True)
    num_fewshot = models.PositiveSmallIntegerField(default=0)
    generation_settings = models.JSONField(default=dict, blank=True)
    items_file = models.CharField(max_length=500, blank=True, help_text="storage name of the per-item outputs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["benchmark__name"]
        constraints = [models.UniqueConstraint(fields=["job", "benchmark"], name="one_result_per_job_benchmark")]
        # the leaderboard reads (job, benchmark, score) of a base model's jobs: covered, no heap visit
        indexes = [models.Index(fields=["job", "benchmark", "score"], name="evalresult_board_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.benchmark_id}: {self.score:.3f}"
