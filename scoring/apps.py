from django.apps import AppConfig


def _dataset_paths(dataset_id: int) -> list[str]:
    from arena.storage import dataset_scores_dir

    return [dataset_scores_dir(dataset_id=dataset_id)]


class ScoringConfig(AppConfig):
    name = "scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from arena.storage import register_dataset_paths

        register_dataset_paths("scoring", _dataset_paths)  # score files are removed with their dataset
