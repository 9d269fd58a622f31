from django.contrib import admin

from training.models import BaseModel, Benchmark, EvalResult, Job, Recipe


@admin.register(BaseModel)
class BaseModelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parameter_count", "path", "revision", "created_at")
    search_fields = ("name", "slug", "path")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Recipe)
class RecipeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "method", "learning_rate", "epochs", "batch_size", "max_samples")
    list_filter = ("method", "scheduler")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "domain", "kind", "metric", "item_count")
    list_filter = ("domain", "kind")
    search_fields = ("name", "slug")


class EvalResultInline(admin.TabularInline):
    model = EvalResult
    extra = 0
    fields = ("benchmark", "score", "stderr", "n_items", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "dataset", "base_model", "recipe", "seed", "status", "stage", "progress", "created_at")
    list_filter = ("status", "base_model")
    search_fields = ("dataset__slug", "dataset__name", "batch")
    raw_id_fields = ("dataset", "created_by")
    readonly_fields = ("batch", "task_id", "config_hash", "environment", "metrics", "attempts", "started_at",
                       "finished_at")
    inlines = [EvalResultInline]


@admin.register(EvalResult)
class EvalResultAdmin(admin.ModelAdmin):
    list_display = ("id", "job", "benchmark", "score", "stderr", "n_items", "created_at")
    list_filter = ("benchmark",)
    raw_id_fields = ("job",)
