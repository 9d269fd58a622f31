"""Kept fine-tuned weights: retention (ARENA_KEEP_WEIGHTS) and the zip stream users download.

A succeeded training job keeps its merged model (safetensors + config + tokenizer) in
``arena.storage.job_weights_dir``; ``Job.weights_dir`` names it while it exists. Only the weights of the
newest ARENA_KEEP_WEIGHTS jobs are kept; weights registered as a base model are never removed.
"""
from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from arena.storage import delete_local_tree
from training.models import BaseModel, Job

CHUNK = 1024 * 1024


def weights_apply_retention() -> list[int]:
    """Delete the weights of all but the newest ARENA_KEEP_WEIGHTS jobs (base-model weights stay); returns job ids."""
    keep = max(0, settings.ARENA_KEEP_WEIGHTS)
    in_use = set(BaseModel.objects.values_list("path", flat=True))
    jobs = Job.objects.exclude(weights_dir="").order_by("-finished_at", "-id").values_list("pk", "weights_dir")
    removed = []
    for pk, directory in list(jobs)[keep:]:
        if directory in in_use:
            continue
        delete_local_tree(directory)
        Job.objects.filter(pk=pk).update(weights_dir="")
        removed.append(pk)
    return removed


class _Sink:
    """A write-only, non-seekable file that hands out what was written (zipfile then uses data descriptors)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def weights_zip_stream(*, directory: str, prefix: str) -> Iterator[bytes]:
    """Stream ``directory`` as a zip (stored, zip64) without building it in memory or on disk."""
    sink = _Sink()
    root = Path(directory)
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            with open(path, "rb") as source, archive.open(f"{prefix}/{path.relative_to(root)}", "w",
                                                          force_zip64=True) as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()


def weights_size(directory: str) -> int:
    return sum(os.path.getsize(p) for p in Path(directory).rglob("*") if p.is_file())
