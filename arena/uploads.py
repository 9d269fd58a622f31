"""Checks an upload passes before it is registered: choices, quota, duplicates, the preflight, a free slug.

``dataset_preview`` runs the same checks and the ingest policy over the first records, and records nothing.
"""
from __future__ import annotations

import os
import secrets
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.text import slugify

from arena.errors import Conflict, InvalidInput, TooLarge
from arena.ingest.errors import IngestError
from arena.ingest.formats import SAMPLE_FORMATS
from arena.ingest.pipeline import IngestResult, ingest_file
from arena.ingest.repair import DEFAULT_POLICY, POLICIES
from arena.ingest.sources import FILE_FORMATS
from arena.models import Dataset
from arena.storage import stream_upload_to_path, temporary_path


RESERVED_SLUGS = frozenset({"upload", "preview"})  # taken by page and API routes under /datasets/


def unique_slug(name: str, *, private: bool = False) -> str:
    """The slug of a new dataset. A private dataset's slug carries a random suffix, so private datasets never
    hold a bare name: a later upload of the same name by someone else gets the same slug whether or not a
    private dataset of that name exists (slugs never reveal other users' private names)."""
    base = slugify(name)[:200] or "dataset"
    if base in RESERVED_SLUGS:
        base = f"{base}-dataset"
    if private:
        while True:
            slug = f"{base[:190]}-{secrets.token_hex(4)}"
            if not Dataset.objects.filter(slug=slug).exists():
                return slug
    slug, n = base, 1
    while Dataset.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_with_unique_slug(*, name: str, **fields) -> Dataset:
    """Create the row; a slug taken by a concurrent upload (the unique constraint fires) is retried, never a 500.

    An identical live upload by the same owner that slipped past the check fires the per-owner constraint: 409.
    """
    for _attempt in range(20):
        try:
            with transaction.atomic():  # a savepoint: the outer transaction survives a failed insert
                private = fields.get("visibility") == Dataset.Visibility.PRIVATE
                return Dataset.objects.create(name=name, slug=unique_slug(name, private=private), **fields)
        except IntegrityError as exc:
            if "one_live_upload_per_owner" in str(exc):
                raise Conflict("an identical file is already registered by you") from None
            if "slug" not in str(exc):
                raise
    raise Conflict(f"could not find a free slug for {name!r}; try again or choose another name")


def check_quota(*, owner, incoming_bytes: int) -> None:
    """The quota counts the bytes the owner's datasets hold now (failed datasets hold none)."""
    used = Dataset.objects.filter(owner=owner).aggregate(total=Sum("stored_bytes"))["total"] or 0
    quota = settings.ARENA_USER_QUOTA_BYTES
    if used + incoming_bytes > quota:
        raise TooLarge(
            f"upload quota exceeded: {used:,} bytes used + {incoming_bytes:,} new > {quota:,} allowed (ARENA_USER_QUOTA_BYTES)"
        )


def check_choices(*, file_format: str | None, sample_format: str | None, visibility: str, policy: str) -> None:
    if policy not in POLICIES:
        raise InvalidInput(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    if file_format and file_format not in FILE_FORMATS:
        raise InvalidInput(f"unknown file_format {file_format!r}; expected one of {', '.join(FILE_FORMATS)}")
    if sample_format and sample_format not in SAMPLE_FORMATS:
        raise InvalidInput(f"unknown sample_format {sample_format!r}; expected one of {', '.join(SAMPLE_FORMATS)}")
    if visibility not in Dataset.Visibility.values:
        raise InvalidInput(f"unknown visibility {visibility!r}; expected public or private")


def duplicate_visible_to(*, owner, field: str, value: str, exclude_id: int | None = None) -> Dataset | None:
    """A live dataset with the same hash that ``owner`` can see (never reveals others' private datasets)."""
    from arena.selectors import dataset_visible_queryset

    qs = dataset_visible_queryset(viewer=owner).filter(**{field: value}).exclude(status=Dataset.Status.FAILED)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.first()


def preflight(*, path: str, filename: str, file_format: str | None, sample_format: str | None, policy: str) -> IngestResult:
    """Detect the formats and run the policy over the first ARENA_PREFLIGHT_RECORDS records (nothing written)."""
    try:
        return ingest_file(
            path=path,
            filename=filename,
            out_path=None,
            file_format=file_format,
            sample_format=sample_format,
            max_record_bytes=settings.ARENA_MAX_RECORD_BYTES,
            limit=settings.ARENA_PREFLIGHT_RECORDS,
            policy=policy,
            max_reject_fraction=settings.ARENA_INGEST_MAX_REJECT_FRACTION,
            max_depth=settings.ARENA_MAX_JSON_DEPTH,
        )
    except IngestError as exc:
        raise InvalidInput(str(exc)) from None


def dataset_preview(
    *,
    owner,
    upload: IO[bytes],
    filename: str,
    file_format: str | None = None,
    sample_format: str | None = None,
    policy: str = DEFAULT_POLICY,
) -> dict:
    """What registering this file would do, without registering it: formats, and the policy's report over
    the first ARENA_PREFLIGHT_RECORDS records (kept, repaired per rule, rejected per rule, examples)."""
    check_choices(file_format=file_format, sample_format=sample_format, visibility="public", policy=policy)
    with temporary_path(suffix="-" + os.path.basename(filename or "upload")) as tmp:
        size, raw_sha256 = stream_upload_to_path(upload=upload, path=tmp, max_bytes=settings.ARENA_MAX_UPLOAD_BYTES)
        result = preflight(path=tmp, filename=filename, file_format=file_format, sample_format=sample_format, policy=policy)
    duplicate = duplicate_visible_to(owner=owner, field="raw_sha256", value=raw_sha256)
    return {
        "file_format": result.file_format,
        "compression": result.compression,
        "sample_format": result.sample_format,
        "upload_bytes": size,
        "records_checked": result.report["records"],
        "complete": result.report["records"] < settings.ARENA_PREFLIGHT_RECORDS,
        "report": result.report,
        "duplicate_of": duplicate.slug if duplicate is not None else None,
    }


def refuse_duplicate_upload(*, owner, raw_sha256: str) -> None:
    duplicate = duplicate_visible_to(owner=owner, field="raw_sha256", value=raw_sha256)
    if duplicate is not None:
        raise Conflict(f"identical file already registered as dataset {duplicate.slug!r}")
