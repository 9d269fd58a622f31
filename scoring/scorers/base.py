"""The scorer contract and registry.

A scorer is a small class in ``scoring/scorers/`` decorated with ``@register``.
It declares its metadata (what it measures, what it reads, its raw range and
direction) and scores a batch of samples. Normalisation to [0, 1] is fixed by
the declared range and transform, never by the data being scored, so the same
raw value always maps to the same normalised value in every dataset.

Adding a scorer means adding one file; ``scoring/scorers/__init__.py`` imports
every module in the package so registration happens on import.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from arena.errors import InvalidInput

Reads = Literal["Q", "A", "QA"]
Scope = Literal["sample", "dataset", "setwise"]
Transform = Literal["linear", "log"]
AXES = ("quality", "complexity", "diversity", "length", "safety", "language", "structure", "reasoning", "judge")


@dataclass(frozen=True)
class ScorerMeta:
    name: str
    axis: str  # one of AXES
    reads: Reads  # Q = instruction only, A = response only, QA = both
    raw_range: tuple[float, float]  # the declared raw range used for normalisation (values outside are clipped)
    higher_is_better: bool
    needs_model: bool
    version: str
    description: str
    transform: Transform = "linear"  # "log": normalise log1p(raw) over log1p(range)
    unit: str = ""
    # "sample": each sample scored on its own (score_batch), so the engine may split the file into chunks.
    # "dataset": each sample gets a score, but it depends on the whole dataset (e.g. kNN distance to other
    #            samples): the engine runs it in one pass over the whole file (score_dataset_samples).
    # "setwise": one value for the whole dataset (e.g. Vendi score): score_set.
    scope: Scope = "sample"

    def __post_init__(self) -> None:
        low, high = self.raw_range
        if not high > low:
            raise ValueError(f"scorer {self.name}: raw_range must have high > low")
        if self.axis not in AXES:
            raise ValueError(f"scorer {self.name}: unknown axis {self.axis!r}")


@dataclass(frozen=True)
class SampleText:
    """What a scorer sees of one sample."""

    idx: int
    instruction: str  # Q
    response: str  # A
    system: str = ""
    messages: Sequence[dict] = field(default_factory=tuple)


class Scorer:
    meta: ClassVar[ScorerMeta]
    #: config keys this scorer accepts, with defaults; anything else is refused
    default_config: ClassVar[dict] = {}
    #: scope="dataset" scorers whose heavy per-sample work is a vector (e.g. a projected gradient): the engine runs
    #: ``embed_batch`` in resumable row-range chunks that store the vectors, then at finalize ``fit_vectors`` and
    #: ``vector_scores`` read them back in a stream (see g_vendi.py)
    vector_chunks: ClassVar[bool] = False

    def __init__(self, *, config: dict | None = None) -> None:
        config = dict(config or {})
        unknown = set(config) - set(self.default_config)
        if unknown:
            accepted = ", ".join(sorted(self.default_config)) or "none"
            raise InvalidInput(
                f"scorer {self.meta.name!r} does not accept option(s) {', '.join(sorted(unknown))}; accepted: {accepted}"
            )
        self.config = {**self.default_config, **config}

    # --- per-sample scoring ---------------------------------------------------
    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        """Raw scores, one per sample, in order. ``None`` only where the score is undefined for that sample
        (e.g. code validity of a sample with no code) -- never to hide an error."""
        raise NotImplementedError

    def score_dataset_samples(self, batches: Iterable[Sequence[SampleText]]) -> Iterator[tuple[int, float | None]]:
        """scope="dataset": yield (idx, raw score) for every sample, after seeing the whole dataset.
        Must keep memory bounded (e.g. memory-mapped arrays under a temp dir), not hold all texts."""
        raise NotImplementedError

    def score_set(self, batches: Iterable[Sequence[SampleText]]) -> dict:
        """scope="setwise": ``{"value": raw dataset-level score, ...details}``."""
        raise NotImplementedError

    @classmethod
    def unavailable_reason(cls) -> str:
        """Why this scorer cannot run on this deployment ("" when it can); forms disable it and show why."""
        return ""

    # --- vector_chunks scorers ------------------------------------------------
    def embed_batch(self, samples: Sequence[SampleText]) -> np.ndarray:
        """float32 (len(samples), dim): one vector per sample (NaN row = none for that sample)."""
        raise NotImplementedError

    def fit_vectors(self, blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict:
        """First pass over (idx, vectors) blocks: ``{"value": dataset-level score, ...details}``."""
        raise NotImplementedError

    def vector_scores(self, blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> Iterator[tuple[int, float | None]]:
        """Second pass, after ``fit_vectors``: (idx, raw score) per sample."""
        raise NotImplementedError

    # --- identity, for reproducibility ---------------------------------------
    def model_identity(self) -> dict:
        """Model name/path/revision for model-based scorers; empty for heuristics."""
        return {}

    def config_hash(self) -> str:
        payload = json.dumps(
            {"scorer": self.meta.name, "version": self.meta.version, "config": self.config, "model": self.model_identity()},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    # --- fixed normalisation --------------------------------------------------
    def normalise(self, raw: float | None) -> float | None:
        return normalise_value(self.meta, raw)

    def close(self) -> None:
        """Release models or connections."""


def int_option(*, scorer: str, name: str, value: object, low: int) -> int:
    """An integer config option >= ``low``, or InvalidInput naming the scorer and the option."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise InvalidInput(f"scorer {scorer!r}: {name} must be an integer >= {low}, got {value!r}")
    return value


def normalise_value(meta: ScorerMeta, raw: float | None) -> float | None:
    """Map a raw score to [0, 1] with the scorer's declared range; 1 is always the better end."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    low, high = meta.raw_range
    if meta.transform == "log":
        value = (math.log1p(max(raw, low)) - math.log1p(low)) / (math.log1p(high) - math.log1p(low))
    else:
        value = (raw - low) / (high - low)
    value = min(max(value, 0.0), 1.0)
    return value if meta.higher_is_better else 1.0 - value


_REGISTRY: dict[str, type[Scorer]] = {}


def register(cls: type[Scorer]) -> type[Scorer]:
    name = cls.meta.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"two scorers are registered as {name!r}")
    _REGISTRY[name] = cls
    return cls


def scorer_classes() -> dict[str, type[Scorer]]:
    import scoring.scorers  # noqa: F401  (imports every scorer module)

    return dict(sorted(_REGISTRY.items()))


def get_scorer_class(name: str) -> type[Scorer]:
    classes = scorer_classes()
    if name not in classes:
        raise InvalidInput(f"unknown scorer {name!r}; known scorers: {', '.join(classes)}")
    return classes[name]


def build_scorer(name: str, *, config: dict | None = None) -> Scorer:
    return get_scorer_class(name)(config=config)


# --- heavy dependencies, imported when first used ------------------------------------------------------------
# The web process imports every scorer module (the registry lists them all), but only workers run models: scorer
# modules must not import torch, transformers or model-loading code at import time (tests/scoring/test_lazy_imports.py).


class LazyModule:
    """Stands for a module and imports it on first attribute access (``torch = LazyModule("torch")``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"


def inference_mode(function: Any) -> Any:
    """``@torch.inference_mode()`` that imports torch when the function is first called, not when it is defined."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import torch

        with torch.inference_mode():
            return function(*args, **kwargs)

    return wrapper
