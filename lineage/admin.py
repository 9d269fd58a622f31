from django.contrib import admin

from lineage.models import (
    ContaminationFinding,
    ContaminationHit,
    DatasetOverlap,
    DatasetRelease,
    DatasetSignature,
    LineageEdge,
    ScopeOverride,
)


@admin.register(LineageEdge)
class LineageEdgeAdmin(admin.ModelAdmin):
    list_display = ("child", "parent", "relation", "origin", "confidence", "created_at", "superseded_at")
    list_filter = ("relation", "origin")


@admin.register(DatasetSignature)
class DatasetSignatureAdmin(admin.ModelAdmin):
    list_display = ("dataset", "status", "sample_count", "signed_at", "indexed_at")
    list_filter = ("status",)


@admin.register(DatasetOverlap)
class DatasetOverlapAdmin(admin.ModelAdmin):
    list_display = ("a", "b", "a_in_b", "b_in_a", "a_matched", "b_matched", "computed_at")


@admin.register(ContaminationFinding)
class ContaminationFindingAdmin(admin.ModelAdmin):
    list_display = ("dataset", "benchmark", "status", "items_contaminated", "items_total", "ratio", "created_at")
    list_filter = ("status", "benchmark")


@admin.register(DatasetRelease)
class DatasetReleaseAdmin(admin.ModelAdmin):
    list_display = ("dataset", "released_on", "declared_by")


@admin.register(ScopeOverride)
class ScopeOverrideAdmin(admin.ModelAdmin):
    list_display = ("owner", "dataset")


@admin.register(ContaminationHit)
class ContaminationHitAdmin(admin.ModelAdmin):
    list_display = ("finding", "item_id", "signal", "score", "sample_idx")
    list_filter = ("signal",)
