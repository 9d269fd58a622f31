from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from arena.api.lease_fields import LEASE_FIELDS, LeaseFieldsMixin
from arena.ingest.repair import DEFAULT_POLICY, POLICIES
from arena.ingest.sources import FILE_FORMATS
from arena.models import Dataset
from lineage.models import LineageEdge


class ParentInputSerializer(serializers.Serializer):
    dataset = serializers.SlugField(help_text="slug of the parent dataset")
    relation = serializers.ChoiceField(choices=LineageEdge.Relation.choices, default="subset")
    evidence = serializers.CharField(required=False, allow_blank=True, default="")


class DatasetCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL, JSON array, Parquet or CSV; optionally .gz or .zst")
    name = serializers.CharField(max_length=200)
    visibility = serializers.ChoiceField(choices=Dataset.Visibility.choices, default="public")
    domains = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    license = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    source_url = serializers.URLField(required=False, allow_blank=True, default="")
    file_format = serializers.ChoiceField(choices=FILE_FORMATS, required=False, allow_blank=True)
    sample_format = serializers.ChoiceField(choices=Dataset.SampleFormat.choices, required=False, allow_blank=True)
    policy = serializers.ChoiceField(
        choices=POLICIES,
        default=DEFAULT_POLICY,
        help_text="repair (default): repair broken records by the documented rules, skip and list the rest; "
        "strict: refuse the file at the first broken record",
    )
    parents = serializers.JSONField(
        required=False,
        default=list,
        help_text='declared parents: [{"dataset": "slug", "relation": "subset", "evidence": "..."}]',
    )

    def validate_domains(self, value: list[str]) -> list[str]:
        # Accept both repeated form fields and one comma-separated value.
        return [tag.strip() for item in value for tag in item.split(",") if tag.strip()]

    def validate_parents(self, value):
        if isinstance(value, str):
            value = [{"dataset": slug.strip()} for slug in value.split(",") if slug.strip()]
        if not isinstance(value, list):
            raise serializers.ValidationError("parents must be a list of objects")
        items = ParentInputSerializer(data=value, many=True)
        items.is_valid(raise_exception=True)
        return items.validated_data


class DatasetPreviewSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL, JSON array, Parquet or CSV; optionally .gz or .zst")
    file_format = serializers.ChoiceField(choices=FILE_FORMATS, required=False, allow_blank=True)
    sample_format = serializers.ChoiceField(choices=Dataset.SampleFormat.choices, required=False, allow_blank=True)
    policy = serializers.ChoiceField(choices=POLICIES, default=DEFAULT_POLICY)


class DatasetUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    visibility = serializers.ChoiceField(choices=Dataset.Visibility.choices, required=False)
    domains = serializers.ListField(child=serializers.CharField(), required=False)
    license = serializers.CharField(required=False, allow_blank=True, max_length=100)
    description = serializers.CharField(required=False, allow_blank=True)
    source_url = serializers.URLField(required=False, allow_blank=True)


class DatasetSerializer(LeaseFieldsMixin, serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    domains = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    parents = serializers.SerializerMethodField()
    rejects_url = serializers.SerializerMethodField(help_text="download of the skipped records (gzipped JSONL), if any")

    class Meta:
        model = Dataset
        fields = [
            "slug",
            "name",
            "owner",
            "visibility",
            "domains",
            "license",
            "description",
            "source_url",
            "status",
            "error",
            "progress",
            "original_filename",
            "file_format",
            "compression",
            "sample_format",
            "upload_bytes",
            "sample_count",
            "token_stats",
            "content_hash",
            "ingest_policy",
            "ingest_report",
            "rejects_url",
            "stored_bytes",
            "parents",
            "created_at",
            "updated_at",
            "ingested_at",
            *LEASE_FIELDS,
        ]
        read_only_fields = fields

    def get_rejects_url(self, obj: Dataset) -> str | None:
        if not obj.rejects_file:
            return None
        path = reverse("api-dataset-rejects", kwargs={"slug": obj.slug})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_parents(self, obj: Dataset) -> list[dict]:
        from lineage.selectors import declared_parents

        viewer = self.context["request"].user if "request" in self.context else None
        return [
            {"dataset": e.parent.slug, "relation": e.relation, "origin": e.origin, "evidence": e.evidence}
            for e in declared_parents(dataset=obj, viewer=viewer)
        ]


class SampleSerializer(serializers.Serializer):
    idx = serializers.IntegerField()
    id = serializers.CharField()
    system = serializers.CharField(allow_blank=True)
    messages = serializers.ListField(child=serializers.DictField())
    source = serializers.CharField()
