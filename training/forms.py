"""The launch form of the jobs page: choices only; the service validates the rest."""
from __future__ import annotations

from django import forms

from arena.models import Dataset
from arena.selectors import dataset_visible_queryset
from training.models import BaseModel, Benchmark, Recipe


class JobLaunchForm(forms.Form):
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.none(), to_field_name="slug", required=False,
        empty_label="(none: evaluate the base model itself)",
    )
    base_models = forms.ModelMultipleChoiceField(queryset=BaseModel.objects.all(), to_field_name="slug")
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.all(), to_field_name="slug", required=False)
    seeds = forms.CharField(initial="0,1,2", help_text="comma-separated integers; one job per base model and seed")
    benchmarks = forms.ModelMultipleChoiceField(
        queryset=Benchmark.objects.all(), to_field_name="slug", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = dataset_visible_queryset(viewer=viewer).filter(status=Dataset.Status.READY)

    def clean_seeds(self) -> list[int]:
        raw = self.cleaned_data["seeds"]
        try:
            seeds = [int(part) for part in raw.replace(" ", "").split(",") if part]
        except ValueError:
            raise forms.ValidationError(f"seeds must be comma-separated integers, got {raw!r}") from None
        if not seeds:
            raise forms.ValidationError("give at least one seed")
        return seeds
