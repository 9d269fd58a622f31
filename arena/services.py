"""Writes to the dataset registry: register an upload, ingest it, update and delete datasets."""
from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from arena.domains import DEFAULT_DOMAINS
from arena.errors import Forbidden, InvalidInput
from arena.queueing import enqueue_on_commit
from arena.ingest.errors import IngestError
from arena.ingest.pipeline import ingest_file
from arena.ingest.repair import DEFAULT_POLICY
from arena.locks import advisory_xact_lock
from arena.models import Dataset, Domain
from arena.permissions import dataset_can_edit, dataset_can_view
from arena.resilience import TRANSIENT_INFRA_ERRORS
from arena.storage import (
    dataset_own_paths,
    dataset_storage_paths,
    delete_quietly,
    delete_tree,
    local_copy,
    rejects_file_name,
    samples_file_name,
    stored_size,
    store_file,
    stream_upload_to_path,
    temporary_path,
    tmp_dir,
    upload_file_name,
)
from arena.uploads import (
    check_choices,
    check_quota,
    create_with_unique_slug,
    duplicate_visible_to,
    preflight,
    refuse_duplicate_upload,
)

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class ParentSpec:
    """A declared parent at upload: the parent dataset, the relation and the evidence for it."""

    dataset: Dataset
    relation: str = "subset"
    evidence: str = ""


def domains_resolve(*, names: Iterable[str]) -> list[Domain]:
    """The Domain rows for ``names``; canonical tags are (re)created on demand, any other name is refused."""
    names = [n.strip().lower() for n in names if n and n.strip()]
    found = {d.name: d for d in Domain.objects.filter(name__in=names)}
    for name in set(names) - set(found):
        if name in DEFAULT_DOMAINS:
            found[name], _ = Domain.objects.get_or_create(name=name, defaults={"description": DEFAULT_DOMAINS[name]})
    unknown = sorted(set(names) - set(found))
    if unknown:
        known = ", ".join(sorted(set(DEFAULT_DOMAINS) | set(Domain.objects.values_list("name", flat=True))))
        raise InvalidInput(f"unknown domain tag(s) {', '.join(unknown)}; known tags: {known}")
    return [found[n] for n in dict.fromkeys(names)]


def dataset_register(
    *,
    owner,
    upload: IO[bytes],
    filename: str,
    name: str,
    visibility: str = Dataset.Visibility.PUBLIC,
    domains: Iterable[str] = (),
    license: str = "",
    description: str = "",
    source_url: str = "",
    parents: Iterable[ParentSpec] = (),
    file_format: str | None = None,
    sample_format: str | None = None,
    policy: str = DEFAULT_POLICY,
    ingest_now: bool = False,
    progress: Callable[[float, int], None] | None = None,
) -> Dataset:
    """Register an upload and queue its ingest.

    The file is streamed to disk, hashed and preflighted (format detection and the ingest ``policy`` over
    the first records) before anything is recorded, so obvious bad input is refused with nothing written.
    Identical concurrent uploads serialise on an advisory lock on the file's hash: exactly one dataset is
    created, the others get Conflict (409). The full ingest then runs on the ``ingest`` queue, or inline
    with ``ingest_now``.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a dataset needs a name")
    check_choices(file_format=file_format, sample_format=sample_format, visibility=visibility, policy=policy)
    domain_objects = domains_resolve(names=domains)
    parents = list(parents)
    for spec in parents:
        if not dataset_can_view(dataset=spec.dataset, user=owner):
            raise Forbidden(f"cannot declare parent {spec.dataset.slug!r}: it is private to another user")

    with temporary_path(suffix="-" + os.path.basename(filename or "upload")) as tmp:
        size, raw_sha256 = stream_upload_to_path(upload=upload, path=tmp, max_bytes=settings.ARENA_MAX_UPLOAD_BYTES)
        check_quota(owner=owner, incoming_bytes=size)
        refuse_duplicate_upload(owner=owner, raw_sha256=raw_sha256)
        checked = preflight(
            path=tmp, filename=filename, file_format=file_format, sample_format=sample_format, policy=policy
        )
        with transaction.atomic():
            advisory_xact_lock(namespace="upload", key=raw_sha256)
            refuse_duplicate_upload(owner=owner, raw_sha256=raw_sha256)  # again, now that racers are serialised
            check_quota(owner=owner, incoming_bytes=size)
            dataset = create_with_unique_slug(
                name=name,
                owner=owner,
                visibility=visibility,
                license=license,
                description=description,
                source_url=source_url,
                original_filename=os.path.basename(filename or ""),
                file_format=checked.file_format,
                compression=checked.compression,
                sample_format=checked.sample_format,
                format_override=sample_format or "",
                ingest_policy=policy,
                upload_bytes=size,
                stored_bytes=size,
                raw_sha256=raw_sha256,
            )
            dataset.domains.set(domain_objects)
            _declare_parents(dataset=dataset, parents=parents, created_by=owner)
            raw_name = upload_file_name(dataset.pk, filename)
            try:
                dataset.raw_file = store_file(local_path=tmp, name=raw_name)
                dataset.save(update_fields=["raw_file"])
            except BaseException:
                delete_quietly(raw_name)  # the row rolls back; the file must go with it
                raise
    if ingest_now:
        dataset_ingest(dataset_id=dataset.pk, progress=progress)
        dataset.refresh_from_db()
    else:
        _enqueue_ingest(dataset)
    return dataset


def _declare_parents(*, dataset: Dataset, parents: list[ParentSpec], created_by) -> None:
    from lineage.services import edge_declare

    for spec in parents:
        edge_declare(
            child=dataset, parent=spec.dataset, relation=spec.relation, evidence=spec.evidence, created_by=created_by
        )


def _enqueue_ingest(dataset: Dataset) -> None:
    """Queue the ingest once the registering transaction (and any outer one) commits, so a worker sees the row."""
    from arena.tasks import dataset_ingest_task

    def record(task_id: str) -> None:
        dataset.task_id = task_id
        Dataset.objects.filter(pk=dataset.pk).update(task_id=task_id)

    enqueue_on_commit(task=dataset_ingest_task, args=[dataset.pk], on_sent=record)


def _fail(dataset: Dataset, message: str) -> None:
    """Record a failed ingest: the error is kept, every file is removed, no partial statistics remain."""
    for path in dataset_own_paths(dataset_id=dataset.pk):  # also what a crashed attempt stored
        delete_tree(path)
    Dataset.objects.filter(pk=dataset.pk).update(
        status=Dataset.Status.FAILED,
        error=message,
        raw_file="",
        samples_file="",
        rejects_file="",
        stored_bytes=0,
        sample_count=None,
        token_stats={},
        content_hash="",
        sample_sketch=[],
        progress=0.0,
        updated_at=timezone.now(),
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_orphaned_ingest_output(dataset_id: int) -> None:
    """A worker killed mid-ingest (SIGKILL, OOM) leaves its partial Parquet in the temp dir: the re-run removes it."""
    patterns = (f"*-ingest-{dataset_id}-pid*.parquet", f"*-rejects-{dataset_id}-pid*.jsonl.gz")
    for path in (p for pattern in patterns for p in glob.glob(os.path.join(tmp_dir(), pattern))):
        pid = path.rsplit("-pid", 1)[1].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
            continue  # another live process on this machine is writing it
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def dataset_ingest(*, dataset_id: int, progress: Callable[[float, int], None] | None = None) -> Dataset:
    """Normalise a registered upload into the sample Parquet file. Idempotent and safe to re-run after a crash."""
    dataset = Dataset.objects.get(pk=dataset_id)
    if dataset.status in (Dataset.Status.READY, Dataset.Status.FAILED):
        return dataset
    if not dataset.raw_file:
        _fail(dataset, "the uploaded file is missing; upload it again")
        dataset.refresh_from_db()
        return dataset
    Dataset.objects.filter(pk=dataset.pk).update(status=Dataset.Status.INGESTING, progress=0.0, error="")
    _remove_orphaned_ingest_output(dataset.pk)

    def report(fraction: float, samples: int) -> None:
        Dataset.objects.filter(pk=dataset.pk).update(progress=round(fraction, 4))
        if progress is not None:
            progress(fraction, samples)

    try:
        with local_copy(dataset.raw_file) as raw_path, temporary_path(
            suffix=f"-ingest-{dataset.pk}-pid{os.getpid()}.parquet"
        ) as out_path, temporary_path(suffix=f"-rejects-{dataset.pk}-pid{os.getpid()}.jsonl.gz") as rejects_path:
            result = ingest_file(
                path=raw_path,
                filename=dataset.original_filename or dataset.raw_file,
                out_path=out_path,
                file_format=dataset.file_format or None,
                sample_format=dataset.format_override or None,
                max_record_bytes=settings.ARENA_MAX_RECORD_BYTES,
                batch_rows=settings.ARENA_INGEST_BATCH_ROWS,
                progress=report,
                policy=dataset.ingest_policy,
                rejects_path=rejects_path,
                max_reject_fraction=settings.ARENA_INGEST_MAX_REJECT_FRACTION,
                max_depth=settings.ARENA_MAX_JSON_DEPTH,
            )
            samples_name = store_file(local_path=out_path, name=samples_file_name(dataset.pk))
            rejects_name = ""
            if result.report.get("rejected"):
                rejects_name = store_file(local_path=rejects_path, name=rejects_file_name(dataset.pk))
            _mark_ready(dataset=dataset, result=result, samples_name=samples_name, rejects_name=rejects_name)
    except IngestError as exc:
        _fail(dataset, str(exc))
        dataset.refresh_from_db()
        return dataset
    except TRANSIENT_INFRA_ERRORS:
        raise  # the database or broker is briefly gone: the task retries with backoff; the upload stays
    except Exception as exc:  # an unexpected failure is still recorded, with its type, then re-raised
        logger.exception("ingest of dataset %s crashed", dataset.pk)
        _fail(dataset, f"internal error during ingest: {type(exc).__name__}: {exc}")
        raise
    delete_quietly(dataset.raw_file)
    dataset.refresh_from_db()
    _after_ready(dataset)
    return dataset


def _mark_ready(*, dataset: Dataset, result, samples_name: str, rejects_name: str) -> None:
    """Record the ingest, unless a visible dataset with the same samples (in any order) exists: then fail.

    The duplicate check and the update run under an advisory lock on the content hash, so two uploads of
    the same samples in different files or orders cannot both become ready.
    """
    with transaction.atomic():
        advisory_xact_lock(namespace="content", key=result.content_hash)
        duplicate = duplicate_visible_to(
            owner=dataset.owner, field="content_hash", value=result.content_hash, exclude_id=dataset.pk
        )
        if duplicate is not None:
            raise IngestError(
                f"identical content already registered as dataset {duplicate.slug!r} (the same samples, in any order)",
                rule="duplicate_content",
            )
        Dataset.objects.filter(pk=dataset.pk).update(
            status=Dataset.Status.READY,
            samples_file=samples_name,
            rejects_file=rejects_name,
            stored_bytes=stored_size(samples_name) + stored_size(rejects_name),
            sample_count=result.sample_count,
            token_stats=result.token_stats,
            content_hash=result.content_hash,
            sample_sketch=result.sketch,
            ingest_report=result.report,
            sample_format=result.sample_format,
            file_format=result.file_format,
            compression=result.compression,
            raw_file="",
            progress=1.0,
            error="",
            ingested_at=timezone.now(),
        )


def _after_ready(dataset: Dataset) -> None:
    """Run the configured follow-up services (e.g. lineage indexing) named in ARENA_AFTER_INGEST_HOOKS."""
    for hook in settings.ARENA_AFTER_INGEST_HOOKS:
        import_string(hook)(dataset=dataset)


def dataset_update(*, dataset: Dataset, user, **fields) -> Dataset:
    if not dataset_can_edit(dataset=dataset, user=user):
        raise Forbidden("only the owner may change this dataset")
    editable = {"name", "visibility", "license", "description", "source_url"}
    unknown = set(fields) - editable - {"domains"}
    if unknown:
        raise InvalidInput(f"cannot change field(s) {', '.join(sorted(unknown))}")
    if "visibility" in fields and fields["visibility"] not in Dataset.Visibility.values:
        raise InvalidInput(f"unknown visibility {fields['visibility']!r}; expected public or private")
    with transaction.atomic():
        for key in editable & set(fields):
            setattr(dataset, key, fields[key])
        dataset.save()
        if "domains" in fields:
            dataset.domains.set(domains_resolve(names=fields["domains"]))
    return dataset


def dataset_delete(*, dataset: Dataset, user) -> None:
    """Delete the dataset's rows and, once that commits, every storage path it owns or other apps derived
    from it (``arena.storage.dataset_storage_paths``: uploads, samples, rejects, scores, signatures, jobs)."""
    if not dataset_can_edit(dataset=dataset, user=user):
        raise Forbidden("only the owner may delete this dataset")
    paths = dataset_storage_paths(dataset_id=dataset.pk)  # before the rows (e.g. jobs) that name them go
    with transaction.atomic():
        dataset.delete()
        transaction.on_commit(lambda: _delete_paths(paths))


def _delete_paths(paths: list[str]) -> None:
    for path in paths:
        try:
            delete_tree(path)
        except OSError:
            logger.exception("could not delete %s", path)
