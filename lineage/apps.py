from django.apps import AppConfig


def _dataset_paths(dataset_id: int) -> list[str]:
    from arena.storage import rep_file_name, signature_file_name

    signature = signature_file_name(dataset_id)
    return [signature, rep_file_name(signature)]


class LineageConfig(AppConfig):
    name = "lineage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from arena.storage import register_dataset_paths

        register_dataset_paths("lineage", _dataset_paths)  # overlap signatures are removed with their dataset
