"""Serializers of the training API: shapes only; every rule lives in training.services."""
from __future__ import annotations

from rest_framework import serializers

from arena.api.lease_fields import LEASE_FIELDS, LeaseFieldsMixin
from training.models import BaseModel, Benchmark, EvalResult, Job, Recipe
from training.recipes import RECIPE_FIELDS

LOG_TAIL_LINES = 50


class BaseModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = BaseModel
        fields = ["name", "slug", "path", "revision", "parameter_count", "description", "created_at"]
        read_only_fields = ["slug", "parameter_count", "created_at"]


class BaseModelFromJobSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


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
    lora_dropout = serializers.FloatField(required=False)
    lora_target_modules = serializers.CharField(required=False)
    max_grad_norm = serializers.FloatField(required=False)
    precision = serializers.CharField(required=False)
    packing = serializers.BooleanField(required=False)
    gradient_checkpointing = serializers.BooleanField(required=False)
    distributed = serializers.CharField(required=False)

    class Meta:
        model = Recipe
        fields = ["name", "slug", *RECIPE_FIELDS, "description", "created_at"]
        read_only_fields = ["slug", "created_at"]


class BenchmarkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Benchmark
        fields = ["name", "slug", "domain", "kind", "metric", "item_count", "items_sha256", "num_fewshot",
                  "max_gen_toks", "chat_template", "limit", "description", "created_at"]


class BenchmarkCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL, JSONL.gz or Parquet items with the columns of the kind "
                                           "(GET benchmark-kinds/ lists them)")
    name = serializers.CharField(max_length=200)
    kind = serializers.CharField()
    domain = serializers.CharField(required=False, allow_blank=True, default="", help_text="default: the kind's")
    metric = serializers.CharField(required=False, allow_blank=True, default="", help_text="default: the kind's first")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    num_fewshot = serializers.IntegerField(required=False, allow_null=True, default=None)
    max_gen_toks = serializers.IntegerField(required=False, allow_null=True, default=None)
    chat_template = serializers.BooleanField(required=False, allow_null=True, default=None)
    limit = serializers.IntegerField(required=False, allow_null=True, default=None)


class BenchmarkKindSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    domain = serializers.CharField()
    metrics = serializers.DictField(child=serializers.CharField(), help_text="Arena metric -> lm-eval 'metric,filter'")
    columns = serializers.ListField(child=serializers.CharField())
    output_type = serializers.CharField()
    num_fewshot = serializers.IntegerField()
    max_gen_toks = serializers.IntegerField(allow_null=True)
    chat_template = serializers.BooleanField()
    executes_code = serializers.BooleanField()


class EvalItemSerializer(serializers.Serializer):
    doc_id = serializers.IntegerField()
    prompt = serializers.CharField()
    response = serializers.JSONField(help_text="the generated text, or one log-likelihood per choice")
    filtered_response = serializers.CharField(help_text="what the metric compared (after lm-eval's filters)")
    target = serializers.CharField()
    choices = serializers.JSONField(allow_null=True)
    metrics = serializers.JSONField()
    doc = serializers.JSONField()


class EvalResultSerializer(serializers.ModelSerializer):
    benchmark = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    domain = serializers.CharField(source="benchmark.domain", read_only=True)

    class Meta:
        model = EvalResult
        fields = ["benchmark", "domain", "score", "n_items", "stderr", "details", "metric", "harness_version",
                  "backend", "task_config", "task_config_hash", "num_fewshot", "generation_settings"]


class JobSerializer(LeaseFieldsMixin, serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    base_model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    recipe = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    benchmarks = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    has_weights = serializers.SerializerMethodField(help_text="fine-tuned weights kept: GET jobs/<id>/weights/")

    class Meta:
        model = Job
        fields = [
            "id", "dataset", "base_model", "recipe", "seed", "benchmarks", "batch", "created_by", "status",
            "progress", "stage", "error", "cancel_requested", "attempts", "device", "config_hash",
            "created_at", "started_at", "finished_at", "has_weights", *LEASE_FIELDS,
        ]


    def get_has_weights(self, job) -> bool:
        return bool(job.weights_dir)


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
