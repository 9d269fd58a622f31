from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "arena"
    verbose_name = "Dataset registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_save

        from arena import celery as _celery_app  # noqa: F401  (the Celery app: ``shared_task``s bind to it)
        from arena import checks  # noqa: F401  (registers the deployment checks)
        from arena.api_tokens import revoke_tokens_on_password_change

        pre_save.connect(revoke_tokens_on_password_change, sender=settings.AUTH_USER_MODEL,
                         dispatch_uid="arena-revoke-tokens-on-password-change")
