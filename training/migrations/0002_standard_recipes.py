"""Standard recipes every installation starts with, including the reduced-learning-rate proxy recipe."""
from django.db import migrations

STANDARD_RECIPES = [
    {
        "name": "Proxy, reduced learning rate",
        "slug": "proxy-reduced-lr",
        "learning_rate": 5e-6,
        "epochs": 1.0,
        "batch_size": 16,
        "gradient_accumulation": 4,
        "max_length": 1024,
        "scheduler": "cosine",
        "warmup_ratio": 0.03,
        "weight_decay": 0.0,
        "method": "full",
        "description": (
            "Full fine-tuning of a small proxy model with a learning rate well below the usual SFT range: proxy "
            "runs with small learning rates rank datasets like tuned runs of large models do, at a fraction of the "
            "cost. Use it to compare datasets, not to ship a model."
        ),
    },
    {
        "name": "SFT, standard",
        "slug": "sft-standard",
        "learning_rate": 2e-5,
        "epochs": 3.0,
        "batch_size": 16,
        "gradient_accumulation": 4,
        "max_length": 2048,
        "scheduler": "cosine",
        "warmup_ratio": 0.03,
        "weight_decay": 0.0,
        "method": "full",
        "description": "A conventional full SFT recipe (3 epochs, 2e-5, cosine).",
    },
    {
        "name": "LoRA r16",
        "slug": "lora-r16",
        "learning_rate": 2e-4,
        "epochs": 3.0,
        "batch_size": 16,
        "gradient_accumulation": 2,
        "max_length": 2048,
        "scheduler": "cosine",
        "warmup_ratio": 0.03,
        "weight_decay": 0.0,
        "method": "lora",
        "lora_rank": 16,
        "lora_alpha": 32,
        "description": "LoRA adapters (rank 16, alpha 32) on the linear layers.",
    },
]


def add_recipes(apps, schema_editor):
    Recipe = apps.get_model("training", "Recipe")
    for values in STANDARD_RECIPES:
        values = dict(values)
        Recipe.objects.get_or_create(slug=values.pop("slug"), defaults=values)


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]
    operations = [migrations.RunPython(add_recipes, migrations.RunPython.noop)]
