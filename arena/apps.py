from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "arena"
    verbose_name = "Dataset registry"
    default_auto_field = "django.db.models.BigAutoField"
