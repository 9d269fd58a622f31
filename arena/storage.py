"""Where bulk files live: Django's default storage (local disk by default, S3-compatible at scale).

Everything that reads or writes dataset files goes through these helpers, so
switching the storage backend touches nothing else. This module is also the storage layout: every storage name
(samples, rejects, uploads, score files, lineage signatures, benchmark and evaluation item files, job checkpoints
and logs, kept weights) and every local directory Arena writes (the model cache) is named here and nowhere else,
and deleting them goes through the ``delete_*`` functions here.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from arena.errors import TooLarge
from arena.ingest.schema import QA_COLUMNS, with_qa_views


def tmp_dir() -> str:
    path = str(settings.ARENA_TMP_DIR)
    os.makedirs(path, exist_ok=True)
    return path


@contextlib.contextmanager
def temporary_path(suffix: str = "") -> Iterator[str]:
    """A path in Arena's temp dir that is removed afterwards whatever happens."""
    fd, path = tempfile.mkstemp(suffix=suffix, dir=tmp_dir())
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def store_file(*, local_path: str, name: str) -> str:
    """Copy ``local_path`` into storage under ``name`` (replacing any file there); returns the stored name."""
    if default_storage.exists(name):
        default_storage.delete(name)
    if hasattr(default_storage, "path"):
        target = default_storage.path(name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(local_path, target + ".part")
        os.replace(target + ".part", target)  # atomic: readers never see a half-written file
        return name
    with open(local_path, "rb") as handle:
        return default_storage.save(name, File(handle))


def stream_upload_to_path(*, upload: IO[bytes], path: str, max_bytes: int) -> tuple[int, str]:
    """Stream an upload (Django UploadedFile or any binary file) to ``path``; returns (size, sha256).

    Refuses more than ``max_bytes`` with :class:`TooLarge` as soon as the limit is passed.
    """
    digest = hashlib.sha256()
    size = 0
    chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1024 * 1024), b"")
    with open(path, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"the upload exceeds the {max_bytes:,}-byte size limit (ARENA_MAX_UPLOAD_BYTES)")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def delete_quietly(name: str) -> None:
    """Delete a stored file if it is there, then any directories it leaves empty."""
    if name:
        with contextlib.suppress(FileNotFoundError, OSError):
            default_storage.delete(name)
        _prune_empty_parents(name)


def stored_size(name: str) -> int:
    """Bytes a stored file takes (0 when there is no such file)."""
    if not name:
        return 0
    try:
        return default_storage.size(name)
    except (FileNotFoundError, OSError):
        return 0


def _local_root() -> str | None:
    try:
        return os.path.realpath(default_storage.path(""))
    except NotImplementedError:
        return None  # object storage has no directories to leave behind


def _prune_empty_parents(name: str) -> None:
    root = _local_root()
    if root is None:
        return
    directory = os.path.dirname(os.path.realpath(default_storage.path(name.rstrip("/"))))
    while directory.startswith(root + os.sep):
        try:
            os.rmdir(directory)  # only succeeds on an empty directory
        except OSError:
            return
        directory = os.path.dirname(directory)


def delete_tree(name: str) -> None:
    """Delete a stored file, or (``name`` ending in "/") everything under that prefix; prune emptied parents."""
    if not name.endswith("/"):
        delete_quietly(name)
        return
    root = _local_root()
    if root is not None:
        target = os.path.realpath(default_storage.path(name))
        if target.startswith(root + os.sep):
            shutil.rmtree(target, ignore_errors=True)
            _prune_empty_parents(name)
        return
    directories, files = default_storage.listdir(name)
    for file_name in files:
        delete_quietly(name + file_name)
    for directory in directories:
        delete_tree(f"{name}{directory}/")


@contextlib.contextmanager
def local_copy(name: str, *, suffix: str = "") -> Iterator[str]:
    """A local filesystem path for a stored file (the file itself on local storage, else a temp download)."""
    try:
        yield default_storage.path(name)
        return
    except NotImplementedError:
        pass
    with temporary_path(suffix=suffix) as path:
        with default_storage.open(name, "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        yield path


def open_parquet(name: str) -> pq.ParquetFile:
    """Open a stored Parquet file for streaming reads (row groups, column subsets)."""
    try:
        return pq.ParquetFile(default_storage.path(name))
    except NotImplementedError:
        return pq.ParquetFile(default_storage.open(name, "rb"))


def _stored_columns(parquet: pq.ParquetFile, columns: list[str] | None) -> tuple[list[str] | None, bool]:
    """The columns to read for ``columns``, and whether instruction/response must be derived from messages.

    Sample files keep each text once (in ``messages``); ``instruction``/``response`` are views of it
    (:func:`arena.ingest.schema.qa_views`). Files written before that stored them, and are read as they are.
    """
    present = parquet.schema_arrow.names
    if columns is None:  # a whole-row read of a sample file serves the views too
        return None, "messages" in present and not set(QA_COLUMNS) & set(present)
    derive = [c for c in QA_COLUMNS if c in columns and c not in present]
    if not derive:
        return columns, False
    read = [c for c in columns if c not in derive]
    return read + ([] if "messages" in read else ["messages"]), True


def iter_parquet_batches(
    parquet: pq.ParquetFile, *, columns: list[str] | None = None, batch_size: int = 1000, row_groups: list[int] | None = None
) -> Iterator[pa.RecordBatch]:
    """``ParquetFile.iter_batches`` that also serves the instruction/response views of sample files."""
    read, derive = _stored_columns(parquet, columns)
    wanted = columns if columns is not None else [*parquet.schema_arrow.names, *QA_COLUMNS]
    for batch in parquet.iter_batches(batch_size=batch_size, columns=read, row_groups=row_groups):
        yield with_qa_views(batch, columns=wanted) if derive else batch


def iter_batches(name: str, *, columns: list[str] | None = None, batch_size: int = 1000) -> Iterator[pa.RecordBatch]:
    """Stream a stored Parquet file in record batches: memory stays flat whatever its size."""
    yield from iter_parquet_batches(open_parquet(name), columns=columns, batch_size=batch_size)


def read_rows(name: str, *, offset: int, limit: int, columns: list[str] | None = None) -> list[dict]:
    """Rows ``offset`` to ``offset+limit`` of a stored Parquet file, reading only the row groups that hold them."""
    parquet = open_parquet(name)
    rows: list[dict] = []
    start = 0
    for group in range(parquet.metadata.num_row_groups):
        group_rows = parquet.metadata.row_group(group).num_rows
        end = start + group_rows
        if end > offset and start < offset + limit:
            read, derive = _stored_columns(parquet, columns)
            table = parquet.read_row_group(group, columns=read)
            if derive:
                wanted = columns if columns is not None else [*table.schema.names, *QA_COLUMNS]
                table = pa.Table.from_batches([with_qa_views(b, columns=wanted) for b in table.to_batches()])
            lo = max(offset - start, 0)
            hi = min(offset + limit - start, group_rows)
            rows.extend(table.slice(lo, hi - lo).to_pylist())
        if end >= offset + limit:
            break
        start = end
    return rows


# --- the storage layout of a dataset ---------------------------------------------------------------------
# Everything a dataset holds in storage is named here or by a provider registered below; deleting a dataset
# removes exactly ``dataset_storage_paths``. Names ending in "/" are directories (prefixes).

DatasetPathProvider = Callable[[int], Iterable[str]]
_PATH_PROVIDERS: dict[str, DatasetPathProvider] = {}


def samples_file_name(dataset_id: int) -> str:
    return f"datasets/{dataset_id}/samples.parquet"


def rejects_file_name(dataset_id: int) -> str:
    return f"datasets/{dataset_id}/rejects.jsonl.gz"


def upload_file_name(dataset_id: int, filename: str) -> str:
    safe = os.path.basename(filename).replace(" ", "_") or "upload"
    return f"uploads/{dataset_id}/{safe}"


def job_work_name(job_id: int) -> str:
    """Storage name of a training job's working files: ``checkpoints/`` while it runs, ``train.log``."""
    return f"jobs/{job_id}/"


def job_weights_name(job_id: int) -> str:
    """Storage name of a training job's kept fine-tuned weights (safetensors + tokenizer), see ARENA_KEEP_WEIGHTS."""
    return f"weights/job-{job_id}/"


def job_work_dir(job_id: int) -> Path:
    """The local directory of a job's working files (training engines write to a local filesystem)."""
    return Path(settings.ARENA_STORAGE) / job_work_name(job_id)


def job_checkpoint_dir(job_id: int) -> Path:
    """Where a running job's trainer writes its checkpoints (resumed from after a crash, removed at the end)."""
    return job_work_dir(job_id) / "checkpoints"


def job_log_path(job_id: int) -> Path:
    """The job's ``train.log``: the engines' and launcher's own output."""
    return job_work_dir(job_id) / "train.log"


def job_weights_dir(job_id: int) -> Path:
    return Path(settings.ARENA_STORAGE) / job_weights_name(job_id)


def delete_local_tree(path: str | os.PathLike) -> None:
    """Remove a local directory Arena wrote under ``ARENA_STORAGE`` (a job's work dir, checkpoints or kept weights).
    Refuses anything outside it: a stored path from the database can never make Arena delete elsewhere."""
    if not str(path):
        return
    root = os.path.realpath(settings.ARENA_STORAGE)
    target = os.path.realpath(path)
    if not target.startswith(root + os.sep):
        raise ValueError(f"refusing to delete {target}: it is not under ARENA_STORAGE ({root})")
    shutil.rmtree(target, ignore_errors=True)


def delete_job_work(job_id: int) -> None:
    """Everything a job wrote while running (checkpoints, log): it starts over."""
    delete_local_tree(job_work_dir(job_id))


def delete_job_checkpoints(job_id: int) -> None:
    delete_local_tree(job_checkpoint_dir(job_id))


def delete_job_weights(job_id: int) -> None:
    delete_local_tree(job_weights_dir(job_id))


# scoring: every score file of a dataset lives under ``scores/<dataset>/`` (declared to the deletion service)
def dataset_scores_dir(*, dataset_id: int) -> str:
    return f"scores/{dataset_id}/"


def chunk_output_name(*, dataset_id: int, run_id: int, group: str, start: int) -> str:
    return f"{dataset_scores_dir(dataset_id=dataset_id)}run-{run_id}/chunks/{group}-{start:012d}.parquet"


def reduced_output_name(*, dataset_id: int, run_id: int, group: str) -> str:
    """Per-sample scores of a vector_chunks scorer, written at finalize from its vector chunks."""
    return f"{dataset_scores_dir(dataset_id=dataset_id)}run-{run_id}/chunks/{group}-reduced.parquet"


def run_scores_name(*, dataset_id: int, run_id: int) -> str:
    return f"{dataset_scores_dir(dataset_id=dataset_id)}run-{run_id}/scores.parquet"


# lineage: a dataset's MinHash signatures and their representative rows
def signature_file_name(dataset_id: int) -> str:
    return f"datasets/{dataset_id}/lineage-minhash-sig.npy"


def rep_file_name(signature_file: str) -> str:
    return signature_file.replace("-sig.npy", "-rep.npy")


def bands_file_name(dataset_id: int) -> str:
    """The first part of a dataset's sorted LSH band keys (lineage/overlap_index.py)."""
    return f"datasets/{dataset_id}/lineage-lsh-keys.npy"


def bands_part_names(bands_file: str, parts: int) -> list[str]:
    """The key files of a band file's ``parts`` parts (the first is ``bands_file`` itself)."""
    return [bands_file if p == 0 else bands_file.replace("-keys.npy", f"-keys-{p}.npy") for p in range(parts)]


def bands_idx_file_name(bands_part: str) -> str:
    """The sample indexes that go with one band-key part."""
    return bands_part.replace("lineage-lsh-keys", "lineage-lsh-idx")


# training: benchmark items and per-evaluation item outputs
def benchmark_items_name(*, slug: str, suffix: str) -> str:
    """A benchmark's normalised items file (``suffix`` ".parquet" or ".jsonl")."""
    return f"benchmarks/{slug}/items{suffix}"


def eval_items_name() -> str:
    """A fresh name for one evaluation's per-item outputs."""
    return f"evaluations/{uuid.uuid4().hex}/items.parquet"


def register_dataset_paths(owner: str, provider: DatasetPathProvider) -> None:
    """Declare the storage paths an app derives from a dataset (score files, signatures, checkpoints...).

    Apps call this from ``AppConfig.ready()`` so the one deletion service removes their files without the
    registry importing them. ``provider(dataset_id)`` is called before the dataset's rows are deleted.
    """
    _PATH_PROVIDERS[owner] = provider


def dataset_own_paths(*, dataset_id: int) -> list[str]:
    """The registry's own directories for a dataset: its upload, and its samples and rejects files."""
    return [f"uploads/{dataset_id}/", f"datasets/{dataset_id}/"]


def dataset_storage_paths(*, dataset_id: int) -> list[str]:
    """Every storage path (file, or directory ending in "/") that belongs to the dataset, its own and derived."""
    paths = dataset_own_paths(dataset_id=dataset_id)
    for _owner, provider in sorted(_PATH_PROVIDERS.items()):
        paths.extend(provider(dataset_id))
    return list(dict.fromkeys(paths))


# --- the model cache (outside Django storage: converted model weights, shared by every app on one machine) ----


def model_cache_dir() -> Path:
    """``ARENA_MODEL_CACHE``: where packaged models are converted once into plain Hugging Face directories."""
    return Path(settings.ARENA_MODEL_CACHE)


def converted_model_dir(*, source_stem: str, digest: str) -> Path:
    """The directory a model file (e.g. a GGUF) is converted into, keyed by the file's content digest."""
    return model_cache_dir() / f"{source_stem}-{digest[:12]}"


@contextlib.contextmanager
def model_cache_staging(*, target: Path) -> Iterator[Path]:
    """A fresh staging directory next to ``target`` (same filesystem, so publishing is a rename); removed
    afterwards whatever happens."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def model_cache_publish(*, staging: Path, target: Path) -> None:
    """Atomically rename a fully written ``staging`` directory to ``target``; losing the race to another worker
    that published the same target first is fine."""
    try:
        os.rename(staging, target)
    except OSError:
        if not (target / "config.json").is_file():  # not a lost race with another worker: a real failure
            raise
