"""The dataset registry."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Domain(models.Model):
    """A domain tag (general, math, code, reasoning, science, ...)."""

    name = models.SlugField(max_length=40, unique=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public"
        PRIVATE = "private"

    class Status(models.TextChoices):
        UPLOADED = "uploaded"
        INGESTING = "ingesting"
        READY = "ready"
        FAILED = "failed"

    class SampleFormat(models.TextChoices):
        ALPACA = "alpaca"
        SHAREGPT = "sharegpt"
        MESSAGES = "messages"

    class Policy(models.TextChoices):
        REPAIR = "repair", "repair: fix what the documented rules allow, skip the rest"
        STRICT = "strict", "strict: refuse the file at the first broken record"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    domains = models.ManyToManyField(Domain, blank=True, related_name="datasets")
    license = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    source_url = models.URLField(max_length=500, blank=True)

    # What was uploaded and how it was read.
    original_filename = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=10, blank=True, help_text="jsonl, json, parquet or csv")
    compression = models.CharField(max_length=10, blank=True, help_text="gzip, zstd or empty")
    sample_format = models.CharField(max_length=10, choices=SampleFormat.choices, blank=True)
    format_override = models.CharField(max_length=10, choices=SampleFormat.choices, blank=True)
    upload_bytes = models.BigIntegerField(default=0)
    raw_file = models.CharField(max_length=500, blank=True, help_text="storage name of the upload until ingested")
    raw_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    ingest_policy = models.CharField(max_length=10, choices=Policy.choices, default=Policy.REPAIR)

    # The normalised result.
    samples_file = models.CharField(max_length=500, blank=True, help_text="storage name of the normalised Parquet")
    sample_count = models.BigIntegerField(null=True, blank=True)
    token_stats = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="order-free hash of the multiset of normalised samples"
    )
    sample_sketch = models.JSONField(
        default=list, blank=True, help_text="bottom-k sketch of sample hashes, for near-identical datasets"
    )
    ingest_report = models.JSONField(
        default=dict, blank=True, help_text="records read, kept, repaired (per rule), rejected (per rule), ignored fields"
    )
    rejects_file = models.CharField(max_length=500, blank=True, help_text="storage name of the gzipped rejects JSONL")
    stored_bytes = models.BigIntegerField(default=0, help_text="bytes this dataset holds in storage (the quota counts these)")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED, db_index=True)
    error = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    task_id = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    # Lease (arena.leases): the worker running this ingest and its last heartbeat (null: nobody holds it);
    # ``waiting``: what it waits for ("waiting for the broker ...") while infrastructure is unreachable.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    waiting = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["visibility", "status"])]
        constraints = [
            # Identical concurrent uploads by one owner: exactly one live dataset (the others get 409).
            models.UniqueConstraint(
                fields=["owner", "raw_sha256"],
                condition=~models.Q(status="failed") & ~models.Q(raw_sha256=""),
                name="arena_dataset_one_live_upload_per_owner",
            )
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC


class ApiToken(models.Model):
    """A named REST API token (``Authorization: Token <key>``). Only a SHA-256 of the key is stored; the key is
    shown once, at creation. A token may expire; it is revoked on request, on rotation and on a password change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, help_text="the key's first characters, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...) of {self.user_id}"
