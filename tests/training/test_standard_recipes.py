"""Recipes as data: the shipped and published recipes are valid, and every bad value names its field and range."""
import importlib

import pytest

from arena.errors import InvalidInput
from training.models import Recipe
from training.recipes import RECIPE_FIELDS, recipe_validate, recipe_values
from training.services import recipe_create

STANDARD = importlib.import_module("training.migrations.0002_standard_recipes").STANDARD_RECIPES
PUBLISHED = importlib.import_module("training.migrations.0004_train_published_recipes").PUBLISHED_RECIPES


@pytest.mark.django_db
@pytest.mark.parametrize("slug", [r["slug"] for r in STANDARD + PUBLISHED])
def test_installed_recipes_are_valid(slug):
    recipe_validate(values=recipe_values(Recipe.objects.get(slug=slug)))


@pytest.mark.django_db
def test_published_protocols_are_installed_as_named_recipes():
    llama = Recipe.objects.get(slug="oda-llama-3-1-8b")
    qwen = Recipe.objects.get(slug="oda-qwen2-5-7b")
    for recipe in (llama, qwen):
        assert (recipe.method, recipe.epochs, recipe.scheduler, recipe.precision, recipe.max_length,
                recipe.distributed) == ("full", 3.0, "cosine", "bf16", 4096, "zero3")
    assert (llama.learning_rate, llama.warmup_ratio) == (2e-5, 0.03)
    assert (qwen.learning_rate, qwen.warmup_ratio) == (5e-6, 0.1)


def test_the_proxy_recipe_uses_a_reduced_learning_rate():
    proxy = next(r for r in STANDARD if r["slug"] == "proxy-reduced-lr")
    standard = next(r for r in STANDARD if r["slug"] == "sft-standard")
    assert proxy["learning_rate"] < standard["learning_rate"] / 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values, message",
    [
        ({"learning_rte": 1e-4}, "unknown recipe field(s) learning_rte; allowed: learning_rate, epochs"),
        ({"precision": "bf17"}, "precision must be one of auto, bf16, fp16, fp32, got 'bf17'"),
        ({"packing": "yes"}, "packing must be true or false, got 'yes'"),
        ({"distributed": "zero2"}, "distributed must be one of none, ddp, fsdp, zero3, got 'zero2'"),
        ({"max_grad_norm": -1.0}, "max_grad_norm must be a number in [0, 1000], got -1.0"),
        ({"method": "lora", "lora_dropout": 1.0}, "lora_dropout must be a number in [0, 1), got 1.0"),
        ({"method": "lora", "lora_target_modules": "q_proj; drop table"},
         "lora_target_modules must be 'all-linear' or comma-separated module names"),
        ({"max_length": 4}, "max_length must be an integer in [8, 131072], got 4"),
        ({"gradient_accumulation": 2.5}, "gradient_accumulation must be an integer in [1, 1024], got 2.5"),
    ],
)
def test_bad_recipe_fields_name_the_field_and_the_allowed_range(values, message):
    with pytest.raises(InvalidInput) as info:
        recipe_create(name="bad", **{"learning_rate": 1e-4, **values})
    assert message in info.value.message
    assert not Recipe.objects.filter(name="bad").exists()


@pytest.mark.django_db
def test_lora_fields_are_only_checked_for_adapter_methods():
    recipe = recipe_create(name="full", learning_rate=1e-5, lora_target_modules="", lora_dropout=5.0)
    assert recipe.method == "full"
    with pytest.raises(InvalidInput, match="lora_target_modules"):
        recipe_create(name="adapters", learning_rate=1e-4, method="qlora", lora_target_modules="")


@pytest.mark.django_db
def test_every_model_field_of_the_engine_is_in_the_table():
    engine_fields = {f.name for f in Recipe._meta.get_fields()} - {"id", "name", "slug", "description", "created_at",
                                                                   "jobs"}
    assert engine_fields == set(RECIPE_FIELDS)


@pytest.mark.django_db
def test_the_api_refuses_unknown_recipe_fields(client, user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/recipes/", {"name": "r", "learning_rate": 1e-4, "lr_sched": "cosine"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("unknown recipe field(s) lr_sched; allowed:")
    response = api.post("/api/v1/recipes/", {"name": "r", "learning_rate": 1e-4, "packing": True, "precision": "bf16",
                                             "distributed": "fsdp"}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["packing"], response.json()["distributed"]) == (True, "fsdp")
