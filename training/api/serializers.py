"""Serializers of the training API: shapes only; every rule lives in training.services."""
from __future__ import annotations

from rest_framework import serializers

from arena.api.lease_fields import LEASE_FIELDS, LeaseFieldsMixin
from training.models import BaseModel, Benchmark, EvalResult, Job, Recipe

LOG_TAIL_LINES = 50


class BaseModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = BaseModel
        fields = ["name", "slug", "path", "revision", "parameter_count", "description", "created_at"]
        read_only_fields = ["slug", "parameter_count", "created_at"]


class RecipeSerializer(serializers.ModelSerializer):
    # Plain fields, no bounds here: the service reports every bad value with its reason.
    learning_rate = serializers.FloatField()
    epochs = serializers.FloatField(required=False)
    batch_size = serializers.IntegerField(required=False)
    gradient_accumulation = serializers.IntegerField(required=False)
    max_length = serializers.IntegerField(required=False)
    warmup_ratio = serializers.FloatField(required=False)
    weight_decay = serializers.FloatField(required=False)
    lora_rank = serializers.IntegerField(required=False)
    lora_alpha = serializers.IntegerField(required=False)
    max_samples = serializers.IntegerField(required=False, allow_null=True)
    scheduler = serializers.CharField(required=False)
    method = serializers.CharField(required=False)

    class Meta:
        model = Recipe
        fields = [
            "name", "slug", "learning_rate", "epochs", "batch_size", "gradient_accumulation", "max_length",
            "scheduler", "warmup_ratio", "weight_decay", "method", "lora_rank", "lora_alpha", "max_samples",
            "description", "created_at",
        ]
        read_only_fields = ["slug", "created_at"]


class BenchmarkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Benchmark
        fields = ["name", "slug", "domain", "kind", "metric", "item_count", "description", "created_at"]


class BenchmarkCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL or Parquet items: id, prompt + answer | choices, answer_index | test, entry_point")
    name = serializers.CharField(max_length=200)
    domain = serializers.CharField()
    kind = serializers.CharField()
    metric = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")


class EvalResultSerializer(serializers.ModelSerializer):
    benchmark = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    domain = serializers.CharField(source="benchmark.domain", read_only=True)

    class Meta:
        model = EvalResult
        fields = ["benchmark", "domain", "score", "n_items", "stderr", "details"]


class JobSerializer(LeaseFieldsMixin, serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    base_model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    recipe = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    benchmarks = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "dataset", "base_model", "recipe", "seed", "benchmarks", "batch", "created_by", "status",
            "progress", "stage", "error", "cancel_requested", "attempts", "device", "config_hash",
            "created_at", "started_at", "finished_at", *LEASE_FIELDS,
        ]


class JobDetailSerializer(JobSerializer):
    logs_tail = serializers.SerializerMethodField()
    results = EvalResultSerializer(many=True, read_only=True)

    class Meta(JobSerializer.Meta):
        fields = JobSerializer.Meta.fields + ["environment", "metrics", "logs_tail", "results"]

    def get_logs_tail(self, job) -> list[str]:
        return job.logs.splitlines()[-LOG_TAIL_LINES:]


class JobCreateSerializer(serializers.Serializer):
    dataset = serializers.SlugField(required=False, allow_null=True, help_text="omit for a base-model reference run")
    base_model = serializers.SlugField()
    recipe = serializers.SlugField(required=False, allow_null=True)
    seed = serializers.IntegerField(default=0)
    benchmarks = serializers.ListField(child=serializers.SlugField(), allow_empty=False)


class JobBatchSerializer(serializers.Serializer):
    dataset = serializers.SlugField(required=False, allow_null=True)
    base_models = serializers.ListField(child=serializers.SlugField(), allow_empty=False)
    seeds = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    recipe = serializers.SlugField(required=False, allow_null=True)
    benchmarks = serializers.ListField(child=serializers.SlugField(), allow_empty=False)
