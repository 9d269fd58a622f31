"""Published training protocols as named recipes (OpenDataArena's full-SFT protocols), and the engine
fields of the standard recipes made explicit."""
from django.db import migrations

_ODA = {
    "epochs": 3.0,
    "scheduler": "cosine",
    "precision": "bf16",
    "max_length": 4096,
    "method": "full",
    "distributed": "zero3",
    "packing": False,
    "gradient_checkpointing": True,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    # ODA trains with a global batch of 128 sequences; on 8 GPUs: 2 per device x 8 accumulation x 8 GPUs.
    "batch_size": 2,
    "gradient_accumulation": 8,
}

PUBLISHED_RECIPES = [
    {
        **_ODA,
        "name": "ODA Llama-3.1-8B full SFT",
        "slug": "oda-llama-3-1-8b",
        "learning_rate": 2e-5,
        "warmup_ratio": 0.03,
        "description": (
            "OpenDataArena's protocol for Llama-3.1-8B: full SFT, 3 epochs, learning rate 2e-5, warmup ratio 0.03, "
            "cosine schedule, bf16, max length 4096, DeepSpeed ZeRO-3 (global batch 128 = 2 per GPU x 8 "
            "accumulation x 8 GPUs). Launch with ARENA_TRAIN_LAUNCHER=accelerate on an 8-GPU worker."
        ),
    },
    {
        **_ODA,
        "name": "ODA Qwen2.5-7B full SFT",
        "slug": "oda-qwen2-5-7b",
        "learning_rate": 5e-6,
        "warmup_ratio": 0.1,
        "description": (
            "OpenDataArena's protocol for Qwen2.5-7B: as the Llama-3.1-8B one (full SFT, 3 epochs, cosine, bf16, "
            "max length 4096, ZeRO-3) with learning rate 5e-6 and warmup ratio 0.1."
        ),
    },
]


def add_recipes(apps, schema_editor):
    Recipe = apps.get_model("training", "Recipe")
    for values in PUBLISHED_RECIPES:
        values = dict(values)
        Recipe.objects.get_or_create(slug=values.pop("slug"), defaults=values)
    # The proxy recipe trains small models in bf16 where the GPU supports it, fp32 on CPU.
    Recipe.objects.filter(slug="proxy-reduced-lr").update(precision="auto", distributed="none")


def remove_recipes(apps, schema_editor):
    Recipe = apps.get_model("training", "Recipe")
    Recipe.objects.filter(slug__in=[r["slug"] for r in PUBLISHED_RECIPES], jobs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("training", "0003_train_engine_fields")]
    operations = [migrations.RunPython(add_recipes, remove_recipes)]
