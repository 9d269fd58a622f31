"""Per-sample gradients of a small proxy model (a causal LM with seeded LoRA adapters) and their random projection.

The loss of a sample is the mean negative log-likelihood of its answer tokens given the prompt, on exactly the token
sequence the perplexity scorers score (chat-template prompt, ``max_length`` truncation keeping at least half for the
answer; see perplexity.py). Its gradient is taken with respect to the LoRA parameters only (peft, rank 8 on every
linear layer by default). At peft's initialisation B = 0, so the proxy computes the same function as the base model
and only the B matrices receive gradient: grad_B = (dL/dW) A^T, a fixed random low-rank view of the full weight
gradient (the layer-wise projection LESS and Prismatic Synthesis rely on).

Projection (``GradientSketch``): a sparse Johnson-Lindenstrauss transform (Kane & Nelson, 2014): each of the P
gradient coordinates is added, with a random sign, to ``nnz`` of the ``dim`` output coordinates, scaled by
1/sqrt(nnz); inner products are preserved in expectation and concentrate like a dense Gaussian projection, without
materialising a P x dim matrix (P is millions). Indices and signs are drawn from ``seed``, so a projection is
reproducible on any machine and device.
"""
from __future__ import annotations

from collections.abc import Sequence

from arena.errors import InvalidInput
from arena.model_loading.loaders import LoadedProxy, causal_lm_identity, load_lora_proxy
from arena.model_loading.locate import check_model_dir
from scoring.scorers.base import LazyModule, SampleText, Scorer, int_option
from scoring.scorers.perplexity import ScoredSequence, scored_sequence

torch = LazyModule("torch")  # imported on first use: see LazyModule


SKETCH_NNZ = 4


class GradientSketch:
    """x (P,) -> S x (dim,), S a sparse sign matrix with ``nnz`` non-zeros per column, drawn from ``seed``."""

    def __init__(self, *, inputs: int, dim: int, seed: int, device: torch.device, nnz: int = SKETCH_NNZ) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.dim, self.nnz = dim, nnz
        self.buckets = torch.randint(0, dim, (nnz, inputs), generator=generator).to(device)
        self.signs = (torch.randint(0, 2, (nnz, inputs), generator=generator) * 2 - 1).to(device, torch.float32)
        self.scale = nnz**-0.5

    def project(self, vector: torch.Tensor) -> torch.Tensor:
        vector = vector.to(torch.float32)
        out = torch.zeros(self.dim, dtype=torch.float32, device=vector.device)
        for k in range(self.nnz):
            out.index_add_(0, self.buckets[k], vector * self.signs[k])
        return out * self.scale


def sample_gradient(*, proxy: LoadedProxy, sequence: ScoredSequence) -> tuple[torch.Tensor, float]:
    """(flat float32 gradient of the mean answer-token NLL w.r.t. the LoRA parameters, that loss)."""
    ids = torch.tensor([sequence.ids], device=proxy.device)
    labels = ids.clone()
    labels[:, : sequence.context_len] = -100  # the prompt is context, not target
    with torch.enable_grad():
        loss = proxy.model(input_ids=ids, labels=labels, use_cache=False).loss
        grads = torch.autograd.grad(loss, proxy.parameters, allow_unused=True)
    flat = torch.cat(
        [(g if g is not None else torch.zeros_like(p)).reshape(-1).float() for g, p in zip(grads, proxy.parameters)]
    )
    return flat, float(loss.detach())


class GradientScorer(Scorer):
    """Shared configuration of the scorers that need per-sample gradients of the LoRA proxy."""

    default_config = {
        "model_path": "",
        "max_length": 512,
        "lora_rank": 8,
        "target_modules": "all-linear",
        "seed": 0,
    }

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        name = self.meta.name
        model_path, max_length = self.config["model_path"], self.config["max_length"]
        if not isinstance(model_path, str):
            raise InvalidInput(f"scorer {name!r}: model_path must be a string path, got {model_path!r}")
        if model_path:
            check_model_dir(path=model_path)
        int_option(scorer=name, name="max_length", value=max_length, low=8)
        int_option(scorer=name, name="lora_rank", value=self.config["lora_rank"], low=1)
        int_option(scorer=name, name="seed", value=self.config["seed"], low=0)
        modules = self.config["target_modules"]
        names_ok = isinstance(modules, list) and modules and all(isinstance(m, str) and m for m in modules)
        if not (modules == "all-linear" or names_ok):
            raise InvalidInput(f"scorer {name!r}: target_modules must be \"all-linear\" or a list of module names")
        self._proxy: LoadedProxy | None = None

    @property
    def proxy(self) -> LoadedProxy:
        if self._proxy is None:
            self._proxy = load_lora_proxy(
                model_path=self.config["model_path"],
                rank=self.config["lora_rank"],
                target_modules=self.config["target_modules"],
                seed=self.config["seed"],
            )
        return self._proxy

    def model_identity(self) -> dict:
        identity = causal_lm_identity(model_path=self.config["model_path"])  # does not load the model
        lora = {"rank": self.config["lora_rank"], "target_modules": self.config["target_modules"],
                "init_seed": self.config["seed"]}
        return {**identity, "lora": lora}

    def sequence(self, sample: SampleText) -> ScoredSequence | None:
        # the proxy and the scoring LM share the tokenizer and prompt rules: perplexity.scored_sequence reads only
        # ``lm.tokenizer``, which the proxy has too
        return scored_sequence(lm=self.proxy, sample=sample, kind="qa", max_length=self.config["max_length"])

    def gradients(self, samples: Sequence[SampleText]) -> list[tuple[torch.Tensor, float] | None]:
        out: list[tuple[torch.Tensor, float] | None] = []
        for sample in samples:
            sequence = self.sequence(sample)
            out.append(None if sequence is None else sample_gradient(proxy=self.proxy, sequence=sequence))
        return out

    def close(self) -> None:
        self._proxy = None  # the proxy stays in the per-process cache
