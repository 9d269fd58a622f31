"""G-Vendi (Jung et al., 2025, "Prismatic Synthesis"): the Vendi score of a dataset's normalised per-sample gradients
under a small proxy model, and each sample's contribution to it.

Per sample: the gradient of its mean answer-token loss w.r.t. the proxy's LoRA parameters (gradient_proxy.py),
projected to ``projection_dim`` (2048) dimensions by a seeded sparse JL sketch, then L2-normalised: g_i.
With C = (1/n) sum_i g_i g_i^T (d x d) and its eigenvalues lambda_k (they sum to 1):

* G-Vendi = exp(H), H = -sum_k lambda_k log lambda_k: the effective number of distinct gradient directions, in
  [1, min(n, d)] (1 = every sample pushes the model the same way). K = G G^T / n has the same non-zero eigenvalues,
  so this is the Vendi score with the cosine kernel on gradients.
* per-sample contribution c_i = g_i^T (-log C) g_i = sum_k (u_k . g_i)^2 (-log lambda_k), in nats: how much of the
  sample's gradient lies in directions that few other samples share. It decomposes the entropy exactly:
  mean_i c_i = H = log G-Vendi, so the dataset mean of the per-sample column is log(G-Vendi) and the set value is
  recorded with it (aggregate ``value``).

Memory is flat in the dataset size: the engine computes projections chunk by chunk (``vector_chunks``: one task per
chunk, resumable like the other chunks) into Parquet files next to the run's score chunks; the reduction reads them
twice in a stream (pass 1: C, d x d float64 = 32 MB at d = 2048; pass 2: contributions). Samples with an empty answer
(no gradient) get no score and are left out of the set.
"""
from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from arena.storage import tmp_dir
from scoring.scorers.base import LazyModule, SampleText, ScorerMeta, int_option, register
from scoring.scorers.gradient_proxy import GradientScorer, GradientSketch

torch = LazyModule("torch")  # imported on first use: see LazyModule

EIGEN_FLOOR = 1e-12


@register
class GVendi(GradientScorer):
    meta = ScorerMeta(
        name="g_vendi",
        axis="diversity",
        reads="QA",
        raw_range=(0.0, math.log(2048.0)),
        higher_is_better=True,
        needs_model=True,
        version="1",
        scope="dataset",
        unit="nats",
        description="G-Vendi (Prismatic Synthesis): Vendi score of the normalised, randomly projected (2048-d) "
        "per-sample LoRA gradients of a small proxy LM (SmolLM2-135M by default); the dataset value is G-Vendi, "
        "the per-sample column each sample's contribution to log G-Vendi (its mean equals log G-Vendi): high = the "
        "sample's gradient points where few others do.",
    )
    default_config = {**GradientScorer.default_config, "projection_dim": 2048}
    vector_chunks = True

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        int_option(scorer=self.meta.name, name="projection_dim", value=self.config["projection_dim"], low=2)
        self._sketch: GradientSketch | None = None
        self._transform: np.ndarray | None = None
        self.set_result: dict | None = None

    @property
    def sketch(self) -> GradientSketch:
        if self._sketch is None:
            self._sketch = GradientSketch(
                inputs=self.proxy.num_parameters,
                dim=self.config["projection_dim"],
                seed=self.config["seed"],
                device=self.proxy.device,
            )
        return self._sketch

    # --- pass 0 (chunked): per-sample projected, normalised gradients ---------------------------------------
    def embed_batch(self, samples: Sequence[SampleText]) -> np.ndarray:
        """float32 (len(samples), projection_dim); NaN rows for samples without a gradient (empty answer)."""
        out = np.full((len(samples), self.config["projection_dim"]), np.nan, dtype=np.float32)
        for row, gradient in enumerate(self.gradients(samples)):
            if gradient is None:
                continue
            projected = self.sketch.project(gradient[0])
            norm = torch.linalg.vector_norm(projected)
            if float(norm) > 0:
                out[row] = (projected / norm).cpu().numpy()
        return out

    # --- pass 1: the set value --------------------------------------------------------------------------
    def fit_vectors(self, blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict:
        """G-Vendi from (idx, vectors) blocks; keeps -log C for ``vector_scores``."""
        dim = self.config["projection_dim"]
        covariance = np.zeros((dim, dim), dtype=np.float64)
        n = skipped = 0
        for _, vectors in blocks:
            present = vectors[~np.isnan(vectors).any(axis=1)].astype(np.float64)
            skipped += len(vectors) - len(present)
            covariance += present.T @ present
            n += len(present)
        details = {"n": n, "without_gradient": skipped, "projection_dim": dim}
        if n < 2:
            self._transform = None
            self.set_result = {"value": None, **details, "reason": "needs at least 2 samples with a gradient"}
            return self.set_result
        eigenvalues, eigenvectors = np.linalg.eigh(covariance / n)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
        eigenvalues /= eigenvalues.sum()
        kept = eigenvalues > EIGEN_FLOOR
        entropy = float(-(eigenvalues[kept] * np.log(eigenvalues[kept])).sum())
        self._transform = (eigenvectors[:, kept] * -np.log(eigenvalues[kept])) @ eigenvectors[:, kept].T
        self.set_result = {"value": math.exp(entropy), "entropy": entropy, **details}
        return self.set_result

    # --- pass 2: per-sample contributions -------------------------------------------------------------------
    def vector_scores(self, blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> Iterator[tuple[int, float | None]]:
        for idx, vectors in blocks:
            if self._transform is None:
                yield from ((int(i), None) for i in idx)
                continue
            values = np.einsum("ij,jk,ik->i", vectors.astype(np.float64), self._transform, vectors.astype(np.float64))
            for i, value in zip(idx, values):
                yield int(i), (None if math.isnan(value) else float(value))

    # --- the whole thing in one process (direct use, bench); the engine runs the passes as chunks instead ---
    def score_dataset_samples(self, batches: Iterable[Sequence[SampleText]]) -> Iterator[tuple[int, float | None]]:
        with self.spooled(batches) as blocks:
            self.fit_vectors(blocks())
            yield from self.vector_scores(blocks())

    @contextlib.contextmanager
    def spooled(self, batches: Iterable[Sequence[SampleText]]):
        """A callable giving a fresh iterator over (idx, vectors) blocks, spooled to a temp file (flat memory)."""
        dim = self.config["projection_dim"]
        with tempfile.TemporaryDirectory(prefix="g-vendi-", dir=tmp_dir()) as directory:
            vectors_path, ids_path = os.path.join(directory, "vectors.f32"), os.path.join(directory, "ids.i64")
            count = 0
            with open(vectors_path, "wb") as vectors, open(ids_path, "wb") as ids:
                for batch in batches:
                    vectors.write(np.ascontiguousarray(self.embed_batch(batch)).tobytes())
                    ids.write(np.asarray([s.idx for s in batch], dtype=np.int64).tobytes())
                    count += len(batch)

            def blocks(size: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
                if count == 0:
                    return
                all_ids = np.memmap(ids_path, dtype=np.int64, mode="r", shape=(count,))
                all_vectors = np.memmap(vectors_path, dtype=np.float32, mode="r", shape=(count, dim))
                for start in range(0, count, size):
                    yield np.array(all_ids[start : start + size]), np.array(all_vectors[start : start + size])

            yield blocks
