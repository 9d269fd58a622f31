"""The semantic contamination signal: a sample is a paraphrase of the benchmark item nearest to it in
MiniLM embedding space when their cosine similarity reaches a calibrated threshold.

Only the *nearest* item of a sample can be flagged by it, so an item is never flagged merely for being
similar to another item that the sample does copy. The threshold was calibrated on a paraphrase set
(``bench/bench_lineage_truth.py --calibrate`` prints recall for light and heavy paraphrases and the false
positive rate on same-domain non-paraphrases); see docs/lineage.md.

The embedder is loaded through ``arena.model_loading`` (the one module that loads models).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

SEMANTIC_THRESHOLD = 0.72  # calibrated: see docs/lineage.md and bench/bench_lineage_truth.py --calibrate


@dataclass
class SemanticIndex:
    embedder: object
    item_vectors: np.ndarray  # (items, dim), L2-normalised
    threshold: float
    identity: dict

    def similarities(self, queries: Sequence[str]) -> np.ndarray:
        from arena.model_loading.loaders import embed_texts

        if not len(queries):
            return np.zeros((0, self.item_vectors.shape[0]), dtype=np.float32)
        return embed_texts(embedder=self.embedder, texts=list(queries)) @ self.item_vectors.T

    def nearest_above(self, *, instructions: Sequence[str | None], texts: Sequence[str]) -> Iterator[tuple[int, int, float]]:
        """(row, nearest item, cosine) for each sample whose nearest item reaches the threshold. A sample is
        represented by its instruction (where a copied question sits), or its whole text when it has none."""
        if not self.item_vectors.shape[0]:
            return
        queries = [q if q and q.strip() else t for q, t in zip(instructions, texts)]
        sims = self.similarities(queries)
        nearest = sims.argmax(axis=1)
        best = sims[np.arange(len(queries)), nearest]
        for row in np.flatnonzero(best >= self.threshold).tolist():
            yield row, int(nearest[row]), round(float(best[row]), 6)


def semantic_index(*, prompts: Sequence[str], threshold: float = SEMANTIC_THRESHOLD, model_path: str = "") -> SemanticIndex:
    """Embed the benchmark's item prompts with the sentence embedder (all-MiniLM-L6-v2 by default)."""
    from arena.model_loading.loaders import embed_texts, load_sentence_embedder

    embedder = load_sentence_embedder(model_path=model_path)
    vectors = embed_texts(embedder=embedder, texts=list(prompts)) if prompts else np.zeros((0, 384), dtype=np.float32)
    return SemanticIndex(embedder=embedder, item_vectors=vectors, threshold=threshold, identity=dict(embedder.identity))
