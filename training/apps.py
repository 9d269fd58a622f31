from django.apps import AppConfig


def _dataset_paths(dataset_id: int) -> list[str]:
    """A dataset's jobs take their working files and kept weights with them, except weights that were
    registered as a base model (other jobs depend on that base model)."""
    from arena.storage import job_weights_dir, job_weights_name, job_work_name
    from training.models import BaseModel, EvalResult, Job

    job_ids = list(Job.objects.filter(dataset_id=dataset_id).values_list("pk", flat=True))
    weights = {pk: str(job_weights_dir(pk)) for pk in job_ids}
    registered = set(BaseModel.objects.filter(path__in=weights.values()).values_list("path", flat=True))
    paths = [job_work_name(pk) for pk in job_ids]
    paths += [job_weights_name(pk) for pk, path in weights.items() if path not in registered]
    paths += [name for name in EvalResult.objects.filter(job_id__in=job_ids).values_list("items_file", flat=True) if name]
    return paths


class TrainingConfig(AppConfig):
    name = "training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from arena.storage import register_dataset_paths

        register_dataset_paths("training", _dataset_paths)

        from training.leaderboard.cache import connect_signals

        connect_signals()
