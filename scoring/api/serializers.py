"""Scoring API serializers: input validation of requests and the shape of responses (no logic)."""

from __future__ import annotations

from rest_framework import serializers

from arena.api.lease_fields import FINISHED, LEASE_FIELDS, LeaseFieldsMixin
from scoring.models import ScoreAggregate, ScoringRun


class RunCreateSerializer(serializers.Serializer):
    dataset = serializers.SlugField(help_text="slug of the dataset to score")
    scorers = serializers.ListField(child=serializers.JSONField(), help_text='[{"name": "mtld", "config": {}}]')
    chunk_rows = serializers.IntegerField(required=False, min_value=1, help_text="rows per chunk task")


class RunSerializer(LeaseFieldsMixin, serializers.ModelSerializer):
    dataset = serializers.CharField(source="dataset.slug", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    chunks = serializers.SerializerMethodField()

    class Meta:
        model = ScoringRun
        fields = [
            "id",
            "dataset",
            "created_by",
            "status",
            "progress",
            "chunks",
            "rows_total",
            "chunk_rows",
            "scorers",
            "error",
            "scores_file",
            "timings",
            "created_at",
            "started_at",
            "finished_at",
            *LEASE_FIELDS,
        ]
        read_only_fields = fields

    def get_waiting(self, obj: ScoringRun) -> str:
        from scoring.selectors import scoring_run_waiting

        return "" if obj.status in FINISHED else scoring_run_waiting(run=obj)

    def get_chunks(self, obj: ScoringRun) -> dict:
        from scoring.selectors import scoring_run_chunk_counts

        return scoring_run_chunk_counts(run=obj)


class AggregateSerializer(serializers.ModelSerializer):
    normalised = serializers.SerializerMethodField()

    class Meta:
        model = ScoreAggregate
        fields = [
            "scorer",
            "scorer_version",
            "config",
            "config_hash",
            "model_identity",
            "axis",
            "reads",
            "scope",
            "higher_is_better",
            "count",
            "null_count",
            "mean",
            "median",
            "p10",
            "p90",
            "std",
            "raw_min",
            "raw_max",
            "normalised",
            "histogram",
            "set_value",
            "details",
            "is_current",
            "run",
            "created_at",
        ]
        read_only_fields = fields

    def get_normalised(self, obj: ScoreAggregate) -> dict:
        return {"mean": obj.norm_mean, "median": obj.norm_median}


class ExportSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    filters = serializers.ListField(
        child=serializers.JSONField(),
        help_text='["mtld:0.5:", "zlib_ratio.raw:0.3:0.9"] or [{"scorer", "min", "max", "basis"}]',
    )
    run = serializers.IntegerField(required=False, help_text="scoring run to read (default: newest with the scorers)")
    visibility = serializers.ChoiceField(choices=["public", "private"], default="private")


class ScorerInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    axis = serializers.CharField()
    reads = serializers.ChoiceField(choices=["Q", "A", "QA"])
    raw_range = serializers.ListField(child=serializers.FloatField())
    transform = serializers.CharField()
    higher_is_better = serializers.BooleanField()
    needs_model = serializers.BooleanField()
    scope = serializers.CharField()
    version = serializers.CharField()
    unit = serializers.CharField()
    description = serializers.CharField()
    options = serializers.DictField()


class SampleScoreSerializer(serializers.Serializer):
    idx = serializers.IntegerField()
    scores = serializers.DictField(child=serializers.DictField(), help_text='{"mtld": {"raw": 41.2, "norm": 0.206}}')


class SampleScorePageSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    count = serializers.IntegerField()
    filters_apply_to = serializers.CharField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SampleScoreSerializer(many=True)
