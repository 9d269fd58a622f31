"""Gradient-based per-sample scores with a small proxy model (SmolLM2-135M by default): GraNd and EL2N
(Paul, Ganguli & Dziugaite, 2021, "Deep Learning on a Data Diet").

* ``grand``: the L2 norm of the gradient of the sample's mean answer-token loss with respect to the proxy's LoRA
  parameters (see gradient_proxy.py). Large = the sample would move the model a lot (hard, or noisy).
* ``el2n``: the mean over answer tokens of || softmax(logits_t) - onehot(y_t) ||_2, the error-vector norm, from one
  forward pass of the base model (equal to the proxy's forward: LoRA's B starts at 0). In [0, sqrt(2)]; large =
  the model gets the answer's tokens wrong.

The original definitions average over several early-training checkpoints of the model being trained; here one fixed
proxy at initialisation stands in for it (as OpenDataArena does), so the scores rank samples for that proxy.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from scoring.scorers.base import LazyModule, SampleText, ScorerMeta, register
from scoring.scorers.gradient_proxy import GradientScorer
from scoring.scorers.perplexity import LanguageModelScorer, answer_token_values, scored_sequence

torch = LazyModule("torch")  # imported on first use: see LazyModule


def token_el2n(logprobs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """|| p - e_y ||_2 per position: sqrt(sum p^2 - 2 p_y + 1)."""
    p = logprobs.exp()
    p_target = p.gather(1, targets.unsqueeze(1)).squeeze(1)
    return ((p * p).sum(dim=1) - 2.0 * p_target + 1.0).clamp(min=0.0).sqrt()


@register
class GradientNorm(GradientScorer):
    meta = ScorerMeta(
        name="grand",
        axis="complexity",
        reads="QA",
        raw_range=(0.0, 100.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        transform="log",
        unit="L2 norm",
        description="GraNd: L2 norm of the gradient of the answer's mean token loss w.r.t. the LoRA parameters "
        "(rank 8, all linear layers, seed 0) of a small proxy LM (SmolLM2-135M by default). High = the sample "
        "would change the model a lot (hard or noisy). None when the answer is empty.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [None if g is None else float(torch.linalg.vector_norm(g[0])) for g in self.gradients(samples)]


@register
class EL2N(LanguageModelScorer):
    meta = ScorerMeta(
        name="el2n",
        axis="complexity",
        reads="QA",
        raw_range=(0.0, math.sqrt(2.0)),
        higher_is_better=True,
        needs_model=True,
        version="1",
        description="EL2N: mean over answer tokens of ||softmax(logits) - onehot(token)||_2 under a small causal LM "
        "(SmolLM2-135M by default), in [0, sqrt 2]: high = the model mispredicts the answer (hard or noisy).",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        max_length = self.config["max_length"]
        sequences = [scored_sequence(lm=self.lm, sample=s, kind="qa", max_length=max_length) for s in samples]
        present = [seq for seq in sequences if seq is not None]
        sums = iter(answer_token_values(lm=self.lm, sequences=present, batch_size=self.config["batch_size"],
                                        token_value=token_el2n))
        out: list[float | None] = []
        for seq in sequences:
            if seq is None:
                out.append(None)
            else:
                total, count = next(sums)
                out.append(total / count)
        return out
