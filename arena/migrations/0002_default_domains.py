from django.db import migrations

DEFAULT_DOMAINS = [
    ("general", "General instruction following and chat"),
    ("math", "Mathematics"),
    ("code", "Programming"),
    ("reasoning", "Logical and multi-step reasoning"),
    ("science", "Natural sciences"),
    ("multilingual", "Non-English or translated data"),
    ("safety", "Safety and refusal behaviour"),
    ("chat", "Multi-turn conversation"),
    ("medical", "Medicine and health"),
]


def add_domains(apps, schema_editor):
    Domain = apps.get_model("arena", "Domain")
    for name, description in DEFAULT_DOMAINS:
        Domain.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("arena", "0001_initial")]
    operations = [migrations.RunPython(add_domains, migrations.RunPython.noop)]
