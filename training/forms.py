"""The launch form of the jobs page: choices only; the service validates the rest."""
from __future__ import annotations

from django import forms

from arena.models import Dataset
from arena.selectors import dataset_visible_queryset
from arena.widgets import CheckboxesWithReasons, refuse_unavailable
from training.models import BaseModel, Benchmark, Recipe


def unavailable_benchmarks() -> dict[str, str]:
    """Benchmarks this deployment cannot run, by slug, with the reason (code execution not enabled, a kind's
    run-time requirement missing): the same check a launch makes."""
    from arena.errors import InvalidInput
    from training.evaluation.runner import benchmark_check_runnable

    unavailable = {}
    for benchmark in Benchmark.objects.all():
        try:
            benchmark_check_runnable(benchmark=benchmark)
        except InvalidInput as exc:
            unavailable[benchmark.slug] = exc.message
    return unavailable


class JobLaunchForm(forms.Form):
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.none(), to_field_name="slug", required=False,
        empty_label="(none: evaluate the base model itself)",
    )
    base_models = forms.ModelMultipleChoiceField(queryset=BaseModel.objects.all(), to_field_name="slug")
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.all(), to_field_name="slug", required=False)
    seeds = forms.CharField(initial="0,1,2", help_text="comma-separated integers; one job per base model and seed")
    benchmarks = forms.ModelMultipleChoiceField(
        queryset=Benchmark.objects.all(), to_field_name="slug", widget=CheckboxesWithReasons
    )

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = dataset_visible_queryset(viewer=viewer).filter(status=Dataset.Status.READY)
        self.unavailable = unavailable_benchmarks()
        self.fields["benchmarks"].widget.unavailable = self.unavailable

    def clean_benchmarks(self):
        chosen = self.cleaned_data["benchmarks"]
        refuse_unavailable(chosen=[b.slug for b in chosen], unavailable=self.unavailable, field="benchmarks")
        return chosen

    def clean_seeds(self) -> list[int]:
        raw = self.cleaned_data["seeds"]
        try:
            seeds = [int(part) for part in raw.replace(" ", "").split(",") if part]
        except ValueError:
            raise forms.ValidationError(f"seeds must be comma-separated integers, got {raw!r}") from None
        if not seeds:
            raise forms.ValidationError("give at least one seed")
        return seeds
