"""Writes to the lineage graph. Edges are appended, never edited: history is kept."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from arena.errors import InvalidInput
from lineage.models import LineageEdge

RELATIONS = {choice.value for choice in LineageEdge.Relation}


def edge_record(
    *,
    child,
    parent,
    relation: str,
    origin: str,
    confidence: float = 1.0,
    evidence: str = "",
    details: dict | None = None,
    created_by=None,
) -> LineageEdge:
    """Add an edge ``parent -> child``. A previous current edge of the same pair and origin is superseded, not lost."""
    if relation not in RELATIONS:
        raise InvalidInput(f"unknown lineage relation {relation!r}; expected one of {', '.join(sorted(RELATIONS))}")
    if origin not in LineageEdge.Origin.values:
        raise InvalidInput(f"unknown lineage origin {origin!r}; expected declared or inferred")
    if child.pk == parent.pk:
        raise InvalidInput(f"a dataset cannot be its own parent ({child.slug})")
    try:
        confidence = float(confidence)
    except (TypeError, ValueError):
        raise InvalidInput(f"confidence must be a number between 0 and 1, got {confidence!r}") from None
    if not 0.0 <= confidence <= 1.0:
        raise InvalidInput(f"confidence must be between 0 and 1, got {confidence}")
    with transaction.atomic():
        LineageEdge.objects.filter(
            child=child, parent=parent, origin=origin, superseded_at__isnull=True
        ).update(superseded_at=timezone.now())
        return LineageEdge.objects.create(
            child=child,
            parent=parent,
            relation=relation,
            origin=origin,
            confidence=confidence,
            evidence=evidence,
            details=details or {},
            created_by=created_by,
        )


def edge_declare(*, child, parent, relation: str, evidence: str = "", confidence: float = 1.0, created_by=None) -> LineageEdge:
    return edge_record(
        child=child,
        parent=parent,
        relation=relation,
        origin=LineageEdge.Origin.DECLARED,
        confidence=confidence,
        evidence=evidence,
        created_by=created_by,
    )
