from django.contrib import admin

from scoring.models import ScoreAggregate, ScoringChunk, ScoringRun


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = ["id", "dataset", "status", "progress", "created_by", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["dataset", "created_by"]


@admin.register(ScoringChunk)
class ScoringChunkAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "group", "start", "end", "status", "attempts"]
    list_filter = ["status"]
    raw_id_fields = ["run"]


@admin.register(ScoreAggregate)
class ScoreAggregateAdmin(admin.ModelAdmin):
    list_display = ["id", "dataset", "scorer", "config_hash", "mean", "is_current", "created_at"]
    list_filter = ["scorer", "is_current"]
    raw_id_fields = ["dataset", "run"]
