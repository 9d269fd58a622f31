"""Recipes as data: every field a recipe may set, its type and its allowed range, in one table.

``recipe_validate`` checks a whole set of values against the table and reports every problem at once,
each naming the field and what it allows; ``recipe_fields_check`` refuses fields the table does not
know (a misspelt ``learning_rte`` is an error, never silently ignored).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from arena.errors import InvalidInput

SCHEDULERS = ("cosine", "linear", "constant")
METHODS = ("full", "lora", "qlora")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
DISTRIBUTED = ("none", "ddp", "fsdp", "zero3")
_MODULE_LIST = re.compile(r"^(all-linear|[A-Za-z_][A-Za-z0-9_.]*(,[A-Za-z_][A-Za-z0-9_.]*)*)$")


@dataclass(frozen=True)
class Field:
    kind: str  # number | integer | choice | bool | modules
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False  # None allowed
    lora_only: bool = False  # checked only when the method trains adapters

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "modules":
            return "'all-linear' or comma-separated module names (e.g. q_proj,v_proj)"
        what = "an integer" if self.kind == "integer" else "a number"
        span = f"{'(' if self.low_open else '['}{_fmt(self.low)}, {_fmt(self.high)}{')' if self.high_open else ']'}"
        return f"{what} in {span}" + (" or empty" if self.optional else "")

    def accepts(self, value) -> bool:
        if value is None:
            return self.optional
        if self.kind == "choice":
            return value in self.choices
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "modules":
            return isinstance(value, str) and bool(_MODULE_LIST.match(value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "integer" and not isinstance(value, int):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


def _fmt(number: float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


RECIPE_SPEC: dict[str, Field] = {
    "learning_rate": Field("number", 0.0, 1.0, low_open=True, high_open=True),
    "epochs": Field("number", 0.0, 100.0, low_open=True),
    "batch_size": Field("integer", 1, 4096),
    "gradient_accumulation": Field("integer", 1, 1024),
    "max_length": Field("integer", 8, 131072),
    "scheduler": Field("choice", choices=SCHEDULERS),
    "warmup_ratio": Field("number", 0.0, 1.0, high_open=True),
    "weight_decay": Field("number", 0.0, 10.0, high_open=True),
    "max_grad_norm": Field("number", 0.0, 1000.0),
    "method": Field("choice", choices=METHODS),
    "lora_rank": Field("integer", 1, 4096, lora_only=True),
    "lora_alpha": Field("integer", 1, 4096, lora_only=True),
    "lora_dropout": Field("number", 0.0, 1.0, high_open=True, lora_only=True),
    "lora_target_modules": Field("modules", lora_only=True),
    "precision": Field("choice", choices=PRECISIONS),
    "packing": Field("bool"),
    "gradient_checkpointing": Field("bool"),
    "distributed": Field("choice", choices=DISTRIBUTED),
    "max_samples": Field("integer", 1, 2**31 - 1, optional=True),
}
RECIPE_FIELDS = tuple(RECIPE_SPEC)


def recipe_fields_check(*, names) -> None:
    """Refuse recipe fields that do not exist, naming them and listing the allowed ones."""
    unknown = sorted(set(names) - set(RECIPE_SPEC))
    if unknown:
        raise InvalidInput(
            f"unknown recipe field(s) {', '.join(unknown)}; allowed: {', '.join(RECIPE_FIELDS)}"
        )


def recipe_validate(*, values: dict) -> None:
    """Raise InvalidInput listing every bad value (values as stored on a Recipe: every field present)."""
    adapters = values.get("method") in ("lora", "qlora")
    problems = [
        f"{name} must be {spec.describe()}, got {values.get(name)!r}"
        for name, spec in RECIPE_SPEC.items()
        if (adapters or not spec.lora_only) and not spec.accepts(values.get(name))
    ]
    if problems:
        raise InvalidInput("bad recipe: " + "; ".join(problems))


def recipe_values(recipe) -> dict:
    """The engine-relevant values of a Recipe row, in table order."""
    return {name: getattr(recipe, name) for name in RECIPE_FIELDS}
