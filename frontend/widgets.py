"""Form widgets of the pages (frontend/forms.py)."""
from __future__ import annotations

from django import forms


class CheckboxesWithReasons(forms.CheckboxSelectMultiple):
    """Checkboxes where choices that cannot work on this deployment are disabled, with the reason beside them.

    ``unavailable`` maps a choice value to its reason; set it after the choices (e.g. in a form's
    ``__init__``). The form must still refuse those values on submit (see ``refuse_unavailable``)."""

    def __init__(self, *args, unavailable: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unavailable = dict(unavailable or {})

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        reason = self.unavailable.get(str(value))
        if reason:
            option["attrs"]["disabled"] = True
            option["label"] = f"{label} — unavailable: {reason}"
        return option


def refuse_unavailable(*, chosen, unavailable: dict[str, str], field: str) -> None:
    """A ValidationError naming each chosen value that cannot run here, with its reason."""
    bad = [f"{value}: {unavailable[str(value)]}" for value in chosen if str(value) in unavailable]
    if bad:
        raise forms.ValidationError(f"{field} not available on this deployment: " + "; ".join(bad))
