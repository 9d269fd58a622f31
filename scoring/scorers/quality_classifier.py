"""Quality classifier score (fineweb-edu style) with any local Hugging Face text classifier.

config ``model_path`` names an ``AutoModelForSequenceClassification`` directory. What is read (``text``): the
response ("a"), the instruction ("q") or both joined by a blank line ("qa", default). The score (``mode``):

* ``auto``: ``regression`` for a one-logit head, else ``expected_class``;
* ``regression``: the logit itself (fineweb-edu's classifier regresses an educational score 0-5 this way);
* ``expected_class``: sum_k k * softmax(logits)_k, the expected class index (classes ordered by quality, as in
  Meta-rater / NVIDIA quality classifiers);
* ``label_probability``: softmax(logits)[label], the probability of one label (``label``: a name or an index).

The declared raw range (for normalisation) is ``score_range`` (default [0, 5], fineweb-edu's scale); values are
clipped to it when normalised, never when stored. Identity records the model's labels and fingerprint.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from arena.errors import InvalidInput
from scoring.scorers.base import LazyModule, SampleText, ScorerMeta, register
from scoring.scorers.sequence_classifier import SequenceClassifierScorer

torch = LazyModule("torch")  # imported on first use: see LazyModule

MODES = ("auto", "regression", "expected_class", "label_probability")
TEXTS = {"qa": "QA", "q": "Q", "a": "A"}


def classifier_text(*, sample: SampleText, text: str) -> str:
    if text == "q":
        return sample.instruction
    if text == "a":
        return sample.response
    return f"{sample.instruction}\n\n{sample.response}"


@register
class QualityClassifier(SequenceClassifierScorer):
    meta = ScorerMeta(
        name="quality_classifier",
        axis="quality",
        reads="QA",
        raw_range=(0.0, 5.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        description="Score of a local text-quality classifier (config model_path; fineweb-edu style): the regression "
        "logit, the expected class index, or one label's probability (option mode). Normalised over score_range "
        "(default [0, 5]).",
    )
    default_config = {
        **SequenceClassifierScorer.default_config,
        "text": "qa",
        "mode": "auto",
        "label": None,
        "score_range": [0.0, 5.0],
    }

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        name, text, mode = self.meta.name, self.config["text"], self.config["mode"]
        if text not in TEXTS:
            raise InvalidInput(f"scorer {name!r}: text must be one of {', '.join(TEXTS)}, got {text!r}")
        if mode not in MODES:
            raise InvalidInput(f"scorer {name!r}: mode must be one of {', '.join(MODES)}, got {mode!r}")
        num_labels = self.identity["num_labels"]
        self.mode = mode if mode != "auto" else ("regression" if num_labels == 1 else "expected_class")
        if self.mode == "regression" and num_labels != 1:
            raise InvalidInput(f"scorer {name!r}: mode regression needs a one-logit head; this model has {num_labels}")
        if self.mode in ("expected_class", "label_probability") and num_labels < 2:
            raise InvalidInput(f"scorer {name!r}: mode {self.mode} needs at least 2 classes; this model has 1")
        self.label_index = self._label_index() if self.mode == "label_probability" else None
        score_range = self.config["score_range"]
        if (
            not isinstance(score_range, list | tuple)
            or len(score_range) != 2
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in score_range)
            or not score_range[1] > score_range[0]
        ):
            raise InvalidInput(
                f"scorer {name!r}: score_range must be [low, high] numbers with high > low, got {score_range!r}"
            )
        low, high = float(score_range[0]), float(score_range[1])
        self.meta = replace(type(self).meta, reads=TEXTS[text], raw_range=(low, high))

    def _label_index(self) -> int:
        label, labels = self.config["label"], self.identity["labels"]
        if isinstance(label, int) and not isinstance(label, bool) and 0 <= label < self.identity["num_labels"]:
            return label
        if isinstance(label, str) and label in labels:
            return labels.index(label)
        raise InvalidInput(
            f"scorer {self.meta.name!r}: mode label_probability needs label, one of {labels or 'the class indices'}"
            f" (or an index below {self.identity['num_labels']}), got {label!r}"
        )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        logits = self.logits([classifier_text(sample=s, text=self.config["text"]) for s in samples])
        if self.mode == "regression":
            values = logits[:, 0]
        else:
            probabilities = torch.softmax(logits, dim=-1)
            if self.mode == "label_probability":
                values = probabilities[:, self.label_index]
            else:
                values = probabilities @ torch.arange(logits.shape[1], dtype=torch.float64)
        return [float(v) for v in values]
