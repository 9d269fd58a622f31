"""Chat templates that mark assistant turns with ``{% generation %}``, so TRL trains on assistant tokens only.

TRL's ``assistant_only_loss`` needs the markers in the template. Templates that have them are used as
they are; TRL patches the families it knows (Llama 3, Qwen 2.5/3, Gemma, Phi...); plain ChatML templates
(SmolLM2 and many others) are patched here. A patched template must render a probe conversation byte
for byte like the original, or the job fails with the reason: never a silent change of what is trained.
"""
from __future__ import annotations

from arena.errors import InvalidInput

CHATML_TURN = "{{'<|im_start|>' + message['role'] + 'NL' + message['content'] + '<|im_end|>' + 'NL'}}"
CHATML_MARKED_TURN = (
    "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistantNL' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ 'NL' }}"
    "{% else %}" + CHATML_TURN + "{% endif %}"
)
NEWLINES = ("\\n", "\n")  # the Jinja literal written as an escape, or (templates read from GGUF) as a real newline
PROBE = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "What is 2+3?"},
    {"role": "assistant", "content": "5"},
    {"role": "user", "content": "And 4+4?"},
    {"role": "assistant", "content": "8"},
]


def _render(tokenizer, template: str, messages: list[dict]) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, chat_template=template)


def training_chat_template(tokenizer) -> str:
    """The tokenizer's chat template with ``{% generation %}`` markers, or InvalidInput saying why there is none."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    original = tokenizer.chat_template
    if isinstance(original, dict):
        original = original.get("default")
    if not original:
        raise InvalidInput("the base model's tokenizer has no chat template: conversations cannot be rendered")
    if has_generation_markers(original):
        return original
    try:
        return get_training_chat_template(processing_class=tokenizer) or original  # TRL's own training templates
    except ValueError:
        patched = next((original.replace(CHATML_TURN.replace("NL", nl), CHATML_MARKED_TURN.replace("NL", nl))
                        for nl in NEWLINES if CHATML_TURN.replace("NL", nl) in original), None)
    if not patched:
        raise InvalidInput(
            "the base model's chat template has no {% generation %} markers and is not a family TRL or Arena can "
            "patch: add the markers around assistant content in the tokenizer's chat_template to train on "
            "assistant tokens only"
        )
    for probe in (PROBE, PROBE[1:]):
        if _render(tokenizer, patched, probe) != _render(tokenizer, original, probe):
            raise InvalidInput("patching the chat template for assistant-only loss changed how it renders; "
                               "add {% generation %} markers to the tokenizer's chat_template yourself")
    return patched
