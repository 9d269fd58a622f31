"""Shared machinery of the scorers that run a local Hugging Face sequence-classification model.

The model is any ``AutoModelForSequenceClassification`` directory given by config ``model_path`` (required: there is
no default reward model or quality classifier offline). Texts are tokenised in batches with padding and attention
masks (longest first, so a batch holds similar lengths), truncated to ``max_length`` tokens from the end, and the
logits come back in float64 in the input order. The model identity (path, fingerprint, architecture, labels) is
recorded with every result.
"""
from __future__ import annotations

from collections.abc import Sequence

from arena.errors import InvalidInput
from arena.model_loading.loaders import LoadedClassifier, classifier_identity, load_sequence_classifier
from arena.model_loading.locate import check_model_dir
from scoring.scorers.base import LazyModule, Scorer, inference_mode, int_option

torch = LazyModule("torch")  # imported on first use: see LazyModule


@inference_mode
def classifier_logits(
    *,
    classifier: LoadedClassifier,
    texts: Sequence[str | tuple[str, str]],
    max_length: int,
    batch_size: int,
    add_special_tokens: bool = True,
) -> torch.Tensor:
    """float64 logits (len(texts), num_labels). A text is a string, or a (first, second) pair that the tokenizer
    joins with its own separator (encoder models trained on pairs). ``add_special_tokens=False`` for text that a
    chat template already rendered with its special tokens."""
    tokenizer = classifier.tokenizer
    def length(text: str | tuple[str, str]) -> int:
        return sum(map(len, text)) if isinstance(text, tuple) else len(text)

    order = sorted(range(len(texts)), key=lambda i: -length(texts[i]))
    out = torch.empty((len(texts), int(classifier.model.config.num_labels)), dtype=torch.float64)
    for start in range(0, len(order), batch_size):
        members = order[start : start + batch_size]
        chunk = [texts[i] for i in members]
        if isinstance(chunk[0], tuple):
            encoded = tokenizer(
                [t[0] for t in chunk], [t[1] for t in chunk], padding=True, truncation=True,
                max_length=max_length, return_tensors="pt",
            )
        else:
            encoded = tokenizer(
                list(chunk), padding=True, truncation=True, max_length=max_length, return_tensors="pt",
                add_special_tokens=add_special_tokens,
            )
        logits = classifier.model(**encoded.to(classifier.device)).logits
        out[members] = logits.double().cpu()
    return out


class SequenceClassifierScorer(Scorer):
    default_config = {"model_path": "", "max_length": 1024, "batch_size": 8}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        name = self.meta.name
        model_path = self.config["model_path"]
        if not isinstance(model_path, str) or not model_path:
            raise InvalidInput(
                f"scorer {name!r} needs config model_path: a local Hugging Face sequence-classification model "
                "directory (nothing is downloaded)"
            )
        int_option(scorer=name, name="max_length", value=self.config["max_length"], low=8)
        int_option(scorer=name, name="batch_size", value=self.config["batch_size"], low=1)
        check_model_dir(path=model_path)
        self.identity = classifier_identity(model_path=model_path)
        self._classifier: LoadedClassifier | None = None

    @property
    def classifier(self) -> LoadedClassifier:
        if self._classifier is None:
            self._classifier = load_sequence_classifier(model_path=self.config["model_path"])
        return self._classifier

    def model_identity(self) -> dict:
        return self.identity

    def logits(self, texts: Sequence[str | tuple[str, str]], *, add_special_tokens: bool = True) -> torch.Tensor:
        return classifier_logits(
            classifier=self.classifier,
            texts=texts,
            max_length=self.config["max_length"],
            batch_size=self.config["batch_size"],
            add_special_tokens=add_special_tokens,
        )

    def close(self) -> None:
        self._classifier = None
