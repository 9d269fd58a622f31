from django.contrib import admin

from lineage.models import LineageEdge


@admin.register(LineageEdge)
class LineageEdgeAdmin(admin.ModelAdmin):
    list_display = ("child", "parent", "relation", "origin", "confidence", "created_at", "superseded_at")
    list_filter = ("relation", "origin")
