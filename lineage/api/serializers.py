"""Input validation for the lineage API; outputs are the selectors' plain dicts."""
from __future__ import annotations

from rest_framework import serializers

from lineage.models import LineageEdge


class EdgeCreateSerializer(serializers.Serializer):
    child = serializers.SlugField(help_text="slug of the derived dataset (you must own it)")
    parent = serializers.SlugField(help_text="slug of the dataset it was derived from")
    relation = serializers.ChoiceField(choices=LineageEdge.Relation.choices)
    evidence = serializers.CharField(required=False, allow_blank=True, default="")
    confidence = serializers.FloatField(required=False, default=1.0, min_value=0.0, max_value=1.0)


class EdgeImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL: one {target, source, relationship, confidence, evidence} per line")


class ContaminationScanSerializer(serializers.Serializer):
    dataset = serializers.SlugField()
    benchmarks = serializers.ListField(child=serializers.SlugField(), min_length=1)
    ngram_size = serializers.IntegerField(required=False, default=13, min_value=3, max_value=50)
    semantic = serializers.BooleanField(
        required=False, default=False, help_text="add the MiniLM paraphrase signal (nearest item above a calibrated cosine)"
    )


class EdgeSerializer(serializers.Serializer):
    """Documentation of the edge dicts returned by the selectors."""

    id = serializers.IntegerField()
    parent = serializers.CharField()
    child = serializers.CharField()
    relation = serializers.CharField()
    origin = serializers.CharField()
    confidence = serializers.FloatField()
    evidence = serializers.CharField()
    details = serializers.DictField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    superseded_at = serializers.DateTimeField(allow_null=True)


class ReleaseDeclareSerializer(serializers.Serializer):
    dataset = serializers.SlugField(help_text="slug of your dataset")
    released_on = serializers.DateField(help_text="YYYY-MM-DD; evidence for the direction of inferred edges")
