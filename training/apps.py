from django.apps import AppConfig


def _dataset_paths(dataset_id: int) -> list[str]:
    from training.models import Job
    from training.services import job_storage_dir

    return [job_storage_dir(job_id=pk) for pk in Job.objects.filter(dataset_id=dataset_id).values_list("pk", flat=True)]


class TrainingConfig(AppConfig):
    name = "training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from arena.storage import register_dataset_paths

        register_dataset_paths("training", _dataset_paths)  # a dataset's jobs (and checkpoints) go with it
