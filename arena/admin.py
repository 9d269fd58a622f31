from django.contrib import admin

from arena.models import ApiToken, Dataset, Domain


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("name", "description")


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("slug", "owner", "visibility", "status", "sample_count", "created_at")
    list_filter = ("status", "visibility", "domains")
    search_fields = ("name", "slug", "description")
    readonly_fields = ("content_hash", "raw_sha256", "token_stats", "samples_file", "raw_file", "task_id")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are stored hashed: the admin can see, expire or delete them, never read a key."""

    list_display = ("user", "name", "prefix", "created_at", "expires_at", "revoked_at")
    search_fields = ("user__username", "name")
    exclude = ("key_hash",)
