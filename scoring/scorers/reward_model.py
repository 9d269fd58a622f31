"""Reward-model score of a (question, answer) pair with any local Hugging Face sequence-classification reward model
(Skywork-Reward / Athene / OpenAssistant DeBERTa style: one output logit = the reward).

Input: when the model's tokenizer has a chat template, the conversation [system?, user=Q, assistant=A] rendered with
it (how Skywork and Athene reward models are used); otherwise the (Q, A) text pair joined by the tokenizer (how
encoder reward models such as OpenAssistant's DeBERTa are used). Multi-turn samples are scored on their
(instruction, response). The raw score is the model's logit, unbounded; normalisation clips it to [-10, 10].
"""
from __future__ import annotations

from collections.abc import Sequence

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, ScorerMeta, register
from scoring.scorers.sequence_classifier import SequenceClassifierScorer


def reward_input(*, tokenizer, sample: SampleText) -> str | tuple[str, str]:
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": sample.system}] if sample.system else []
        messages += [{"role": "user", "content": sample.instruction}, {"role": "assistant", "content": sample.response}]
        try:
            return tokenizer.apply_chat_template(messages, tokenize=False)
        except Exception as exc:  # jinja errors, e.g. a template that refuses the system role
            raise InvalidInput(f"the reward model's chat template cannot render sample {sample.idx}: {exc}") from exc
    question = f"{sample.system}\n\n{sample.instruction}" if sample.system else sample.instruction
    return (question, sample.response)


@register
class RewardModelScore(SequenceClassifierScorer):
    meta = ScorerMeta(
        name="reward_model",
        axis="quality",
        reads="QA",
        raw_range=(-10.0, 10.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        unit="reward logit",
        description="Score of a local sequence-classification reward model (config model_path, one output logit) on "
        "the (question, answer) pair, rendered with the model's chat template when it has one. Unbounded; "
        "normalised over [-10, 10]. Values of different reward models are not comparable.",
    )

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        if self.identity["num_labels"] != 1:
            raise InvalidInput(
                f"scorer 'reward_model': {self.config['model_path']} has {self.identity['num_labels']} output labels; "
                "a reward model has exactly one (use quality_classifier for a multi-class classifier)"
            )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        tokenizer = self.classifier.tokenizer
        texts = [reward_input(tokenizer=tokenizer, sample=sample) for sample in samples]
        templated = bool(getattr(tokenizer, "chat_template", None))  # the template wrote the special tokens
        return [float(v) for v in self.logits(texts, add_special_tokens=not templated)[:, 0]]
