"""Dataset genealogy: edges between datasets, with history."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class LineageEdge(models.Model):
    """``child`` was derived from ``parent``.

    Edges are never updated in place: restating or revising an edge adds a new
    row and marks the previous one ``superseded_at``, so the history survives.
    """

    class Relation(models.TextChoices):
        SUBSET = "subset", "subset / filtered"
        MIXTURE = "mixture", "mixture / composition"
        DISTILLATION = "distillation"
        SYNTHETIC = "synthetic", "synthetic generation"
        TRANSLATION = "translation"
        EVOLUTION = "evolution", "semantic evolution"
        OVERLAP = "overlap", "unexplained sample overlap"

    class Origin(models.TextChoices):
        DECLARED = "declared"
        INFERRED = "inferred"

    child = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="parent_edges")
    parent = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="child_edges")
    relation = models.CharField(max_length=20, choices=Relation.choices)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    confidence = models.FloatField(default=1.0)
    evidence = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    superseded_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["child", "parent", "origin"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(child=models.F("parent")), name="lineage_edge_not_self"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1), name="lineage_edge_confidence_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} <-{self.relation}- {self.parent_id} ({self.origin})"
