from django.apps import AppConfig
from django.db.models.signals import post_migrate


def register_dash_apps(**kwargs) -> None:
    """Create django-plotly-dash's rows for our stateless Dash apps at migrate time, so that serving them to an
    anonymous GET only reads (the library would otherwise insert them on first request)."""
    from django_plotly_dash.models import StatelessApp
    from django_plotly_dash.dash_wrapper import get_local_stateless_list

    from frontend.dash_apps import compare, genealogy, leaderboard  # noqa: F401  (importing registers them)

    for name in get_local_stateless_list():
        StatelessApp.objects.get_or_create(app_name=name)


class FrontendConfig(AppConfig):
    name = "frontend"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps

        # frontend has no models, so it gets no post_migrate of its own: hook the Dash library's
        post_migrate.connect(register_dash_apps, sender=apps.get_app_config("django_plotly_dash"),
                             dispatch_uid="frontend-register-dash-apps")
