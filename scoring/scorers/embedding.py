"""Embedding scorers that need the whole dataset: distance to nearest neighbours and near-duplicates.

Both embed every sample with the sentence embedder (all-MiniLM-L6-v2 by default; L2-normalised, so the dot
product is the cosine similarity), spool the embeddings to a float32 ``np.memmap`` in Arena's temp dir, then
compare every sample with every other one blockwise: ``ROW_BLOCK`` rows against ``COL_BLOCK`` columns at a time
with a torch matmul, keeping a running top-k per row. Up to RESIDENT_BYTES (2 GiB, ~1.4M samples) the embeddings
are copied to the device once; above that, column blocks are streamed from the memmap.

Cost: time O(N^2 * d) (d = 384), memory O(ROW_BLOCK * COL_BLOCK) floats plus the k best per row of the current
block (plus the resident copy, at most RESIDENT_BYTES); disk O(N * d * 4 bytes) (1M samples = 1.5 GB).
On one GPU, 1M samples is ~8e14 flops, i.e. minutes; on a 2-core CPU, 100k samples (~8e12 flops) take minutes,
which is about the practical limit. Embedding the texts usually costs more than the search.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

import numpy as np

from arena.errors import InvalidInput
from arena.storage import tmp_dir
from arena.model_loading.loaders import LoadedEmbedder, embed_texts, embedder_identity, load_sentence_embedder
from arena.model_loading.locate import check_model_dir
from scoring.scorers.base import (
    LazyModule,
    SampleText,
    Scorer,
    ScorerMeta,
    inference_mode,
    int_option,
    register,
)

torch = LazyModule("torch")  # imported on first use: see LazyModule

ROW_BLOCK = 4096
COL_BLOCK = 65536
RESIDENT_BYTES = 2 * 1024**3  # embeddings up to this size (1.4M x 384 float32) are held on the device
TEXT_FIELDS = ("qa", "q")


def embedding_text(*, sample: SampleText, text: str) -> str:
    """What is embedded: the question alone ("q") or question and answer ("qa")."""
    if text == "q":
        return sample.instruction
    return f"{sample.instruction}\n\n{sample.response}"


class EmbeddingScorer(Scorer):
    """Shared configuration for the embedding-based scorers (here and in setwise.py)."""

    default_config = {"embedder_path": "", "text": "qa", "batch_size": 64}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        if self.config["text"] not in TEXT_FIELDS:
            raise InvalidInput(f"scorer {self.meta.name!r}: text must be 'qa' or 'q', got {self.config['text']!r}")
        if self.config["text"] == "q":
            self.meta = replace(type(self).meta, reads="Q")  # this instance reads the question only
        batch_size = self.config["batch_size"]
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise InvalidInput(f"scorer {self.meta.name!r}: batch_size must be an integer >= 1, got {batch_size!r}")
        if not isinstance(self.config["embedder_path"], str):
            raise InvalidInput(f"scorer {self.meta.name!r}: embedder_path must be a string path")
        if self.config["embedder_path"]:
            check_model_dir(path=self.config["embedder_path"])
        self._embedder: LoadedEmbedder | None = None

    @property
    def embedder(self) -> LoadedEmbedder:
        if self._embedder is None:
            self._embedder = load_sentence_embedder(model_path=self.config["embedder_path"])
        return self._embedder

    def model_identity(self) -> dict:
        return embedder_identity(model_path=self.config["embedder_path"])  # does not load the model

    def embed_samples(self, samples: Sequence[SampleText]) -> np.ndarray:
        texts = [embedding_text(sample=sample, text=self.config["text"]) for sample in samples]
        return embed_texts(embedder=self.embedder, texts=texts, batch_size=self.config["batch_size"])

    def close(self) -> None:
        self._embedder = None


def positive_int_option(*, scorer: str, name: str, value: object) -> int:
    return int_option(scorer=scorer, name=name, value=value, low=1)


# --- spooling and blockwise search -------------------------------------------------------
@contextlib.contextmanager
def spooled_embeddings(
    *, scorer: EmbeddingScorer, batches: Iterable[Sequence[SampleText]]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(idx array, embeddings memmap) for every sample, written batch by batch to a temp dir (removed after)."""
    with tempfile.TemporaryDirectory(prefix="embeddings-", dir=tmp_dir()) as directory:
        vectors_path = os.path.join(directory, "vectors.f32")
        ids_path = os.path.join(directory, "ids.i64")
        count, dim = 0, 0
        with open(vectors_path, "wb") as vectors, open(ids_path, "wb") as ids:
            for batch in batches:
                if not batch:
                    continue
                embedded = scorer.embed_samples(batch)
                dim = embedded.shape[1]
                vectors.write(np.ascontiguousarray(embedded, dtype=np.float32).tobytes())
                ids.write(np.asarray([s.idx for s in batch], dtype=np.int64).tobytes())
                count += len(batch)
        if count == 0:
            yield np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=np.float32)
            return
        yield (
            np.memmap(ids_path, dtype=np.int64, mode="r", shape=(count,)),
            np.memmap(vectors_path, dtype=np.float32, mode="r", shape=(count, dim)),
        )


@inference_mode
def nearest_similarities(
    *,
    embeddings: np.ndarray,
    k: int,
    device: torch.device,
    row_block: int = ROW_BLOCK,
    col_block: int = COL_BLOCK,
    resident_bytes: int = RESIDENT_BYTES,
) -> Iterator[tuple[int, np.ndarray]]:
    """For each block of rows: (first row, float32 array (rows, k) of the k highest cosine similarities to OTHER
    rows, best first). Requires k <= N - 1. When all embeddings fit in ``resident_bytes`` they are copied to the
    device once; otherwise column blocks are streamed from the memmap for every row block."""
    n = embeddings.shape[0]
    resident = torch.from_numpy(np.array(embeddings)).to(device) if embeddings.nbytes <= resident_bytes else None

    def columns(c0: int, c1: int) -> torch.Tensor:
        if resident is not None:
            return resident[c0:c1]
        return torch.from_numpy(np.array(embeddings[c0:c1])).to(device)

    for r0 in range(0, n, row_block):
        r1 = min(n, r0 + row_block)
        rows = columns(r0, r1)
        best = torch.full((r1 - r0, k), -float("inf"), device=device)
        for c0 in range(0, n, col_block):
            c1 = min(n, c0 + col_block)
            sims = rows @ columns(c0, c1).T
            low, high = max(r0, c0), min(r1, c1)
            if low < high:  # this block holds the diagonal: a sample is not its own neighbour
                diagonal = torch.arange(low, high, device=device)
                sims[diagonal - r0, diagonal - c0] = -float("inf")
            top = sims.topk(min(k, c1 - c0), dim=1).values
            best = torch.cat([best, top], dim=1).topk(k, dim=1).values
        yield r0, best.cpu().numpy()


@register
class NearestNeighbourDistance(EmbeddingScorer):
    meta = ScorerMeta(
        name="knn_distance",
        axis="diversity",
        reads="QA",
        raw_range=(0.0, 1.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        scope="dataset",
        unit="cosine distance",
        description="Mean cosine distance (1 - cosine similarity, all-MiniLM-L6-v2 embeddings) from a sample to its "
        "k nearest other samples in the same dataset: high = the sample adds something new. Undefined (None) "
        "for a dataset of one sample; with fewer than k+1 samples all others are used.",
    )
    default_config = {**EmbeddingScorer.default_config, "k": 10}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        positive_int_option(scorer=self.meta.name, name="k", value=self.config["k"])

    def score_dataset_samples(self, batches: Iterable[Sequence[SampleText]]) -> Iterator[tuple[int, float | None]]:
        with spooled_embeddings(scorer=self, batches=batches) as (ids, vectors):
            n = len(ids)
            if n <= 1:  # no other sample to compare with
                yield from ((int(i), None) for i in ids)
                return
            k = min(self.config["k"], n - 1)
            for r0, sims in nearest_similarities(embeddings=vectors, k=k, device=self.embedder.device):
                distances = 1.0 - sims.astype(np.float64).mean(axis=1)
                for offset, distance in enumerate(distances):
                    yield int(ids[r0 + offset]), float(distance)


@register
class NearDuplicate(EmbeddingScorer):
    meta = ScorerMeta(
        name="near_duplicate",
        axis="diversity",
        reads="QA",
        raw_range=(0.0, 1.0),
        higher_is_better=False,
        needs_model=True,
        version="1",
        scope="dataset",
        description="1.0 if another sample in the same dataset has cosine similarity >= threshold (default 0.95, "
        "all-MiniLM-L6-v2 embeddings) with this one, else 0.0; the dataset mean is the near-duplicate rate "
        "(both members of a pair count).",
    )
    default_config = {**EmbeddingScorer.default_config, "threshold": 0.95}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        threshold = self.config["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not -1.0 <= threshold <= 1.0:
            raise InvalidInput(f"scorer 'near_duplicate': threshold must be a number in [-1, 1], got {threshold!r}")

    def score_dataset_samples(self, batches: Iterable[Sequence[SampleText]]) -> Iterator[tuple[int, float | None]]:
        with spooled_embeddings(scorer=self, batches=batches) as (ids, vectors):
            if len(ids) <= 1:
                yield from ((int(i), 0.0) for i in ids)  # a lone sample has no duplicate
                return
            for r0, sims in nearest_similarities(embeddings=vectors, k=1, device=self.embedder.device):
                for offset, similarity in enumerate(sims[:, 0]):
                    yield int(ids[r0 + offset]), float(similarity >= self.config["threshold"])
