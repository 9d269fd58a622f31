from django.db import migrations

from arena.domains import DEFAULT_DOMAINS


def add_domains(apps, schema_editor):
    Domain = apps.get_model("arena", "Domain")
    for name, description in DEFAULT_DOMAINS.items():
        Domain.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("arena", "0001_initial")]
    operations = [migrations.RunPython(add_domains, migrations.RunPython.noop)]
