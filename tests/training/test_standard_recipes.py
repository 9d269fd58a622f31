import importlib

import pytest

from training.services import recipe_validate

STANDARD = importlib.import_module("training.migrations.0002_standard_recipes").STANDARD_RECIPES


@pytest.mark.parametrize("values", STANDARD, ids=[r["slug"] for r in STANDARD])
def test_standard_recipes_are_valid(values):
    recipe_validate(values={k: v for k, v in values.items() if k not in ("name", "slug", "description")})


def test_the_proxy_recipe_uses_a_reduced_learning_rate():
    proxy = next(r for r in STANDARD if r["slug"] == "proxy-reduced-lr")
    standard = next(r for r in STANDARD if r["slug"] == "sft-standard")
    assert proxy["learning_rate"] < standard["learning_rate"] / 2
