from django.apps import AppConfig


def _dataset_paths(dataset_id: int) -> list[str]:
    from arena.storage import bands_file_name, bands_idx_file_name, rep_file_name, signature_file_name

    signature, bands = signature_file_name(dataset_id), bands_file_name(dataset_id)
    return [signature, rep_file_name(signature), bands, bands_idx_file_name(bands)]


class LineageConfig(AppConfig):
    name = "lineage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from arena.storage import register_dataset_paths

        register_dataset_paths("lineage", _dataset_paths)  # overlap signatures are removed with their dataset
        from lineage.openlineage import connect_signals

        connect_signals()  # run events to ARENA_OPENLINEAGE_URL as they happen (a no-op when it is unset)
