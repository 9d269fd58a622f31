"""Reads from the dataset registry. Every read is scoped to what the viewer may see."""
from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet

from arena.errors import NotFound
from arena.ingest.schema import canonical_message, sketch_similarity
from arena.models import Dataset
from arena.permissions import dataset_visible_queryset  # noqa: F401  (the rule lives in arena.permissions)
from arena.storage import read_rows


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


def dataset_rejects_open(*, dataset: Dataset):
    """The stored rejects file (gzipped JSONL) opened for reading, or NotFound when the ingest skipped nothing."""
    if not dataset.rejects_file:
        raise NotFound(f"dataset {dataset.slug!r} has no rejected records")
    return default_storage.open(dataset.rejects_file, "rb")


def dataset_near_duplicates(*, dataset: Dataset, viewer, limit: int = 5) -> list[tuple[Dataset, float]]:
    """Visible ready datasets whose samples largely coincide with this one's (estimated from the sample
    sketches), most similar first: information for the dataset page, never a refusal."""
    if not dataset.sample_sketch:
        return []
    size = dataset.sample_count or 0
    threshold = settings.ARENA_NEAR_DUPLICATE_SIMILARITY
    # Jaccard similarity >= t needs the smaller set to be >= t x the larger: only similar sizes can qualify.
    candidates = (
        dataset_visible_queryset(viewer=viewer)
        .filter(status=Dataset.Status.READY, sample_count__gte=int(size * threshold), sample_count__lte=int(size / threshold) + 1)
        .exclude(pk=dataset.pk)
        .exclude(sample_sketch=[])
        .only("pk", "slug", "name", "sample_sketch", "sample_count")[:500]
    )
    found = []
    for other in candidates:
        similarity = sketch_similarity(dataset.sample_sketch, other.sample_sketch)
        if similarity >= threshold:
            found.append((other, similarity))
    return sorted(found, key=lambda pair: -pair[1])[:limit]
