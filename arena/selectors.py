"""Reads from the dataset registry. Every read is scoped to what the viewer may see."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from arena.errors import NotFound
from arena.ingest.schema import canonical_message
from arena.models import Dataset
from arena.storage import read_rows


def dataset_visible_queryset(*, viewer) -> QuerySet[Dataset]:
    """Public datasets, plus the viewer's own private ones (staff see everything)."""
    qs = Dataset.objects.all()
    if viewer is None or not viewer.is_authenticated:
        return qs.filter(visibility=Dataset.Visibility.PUBLIC)
    if viewer.is_staff:
        return qs
    return qs.filter(Q(visibility=Dataset.Visibility.PUBLIC) | Q(owner=viewer))


def dataset_list(
    *,
    viewer,
    search: str = "",
    domain: str = "",
    status: str = "",
    owner: str = "",
) -> QuerySet[Dataset]:
    qs = dataset_visible_queryset(viewer=viewer).select_related("owner").prefetch_related("domains")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(description__icontains=search) | Q(slug__icontains=search))
    if domain:
        qs = qs.filter(domains__name=domain)
    if status:
        qs = qs.filter(status=status)
    if owner:
        qs = qs.filter(owner__username=owner)
    return qs.distinct()


def dataset_get(*, viewer, slug: str) -> Dataset:
    """The dataset, or NotFound: a private dataset of someone else is indistinguishable from a missing one."""
    try:
        return dataset_list(viewer=viewer).get(slug=slug)
    except Dataset.DoesNotExist:
        raise NotFound(f"no dataset {slug!r}") from None


def dataset_samples_page(*, dataset: Dataset, offset: int, limit: int) -> list[dict]:
    """A page of normalised samples, read from only the Parquet row groups that hold it."""
    if dataset.status != Dataset.Status.READY or not dataset.samples_file:
        return []
    columns = ["idx", "id", "system", "messages", "source"]
    rows = read_rows(dataset.samples_file, offset=offset, limit=limit, columns=columns)
    for row in rows:  # Parquet fills every optional message field; show only what the sample carries
        row["messages"] = [canonical_message(m) for m in row["messages"]]
    return rows
