"""Forms of the EU AI Act pages: the questionnaire (one yes/no field per question) and the choice of
the model version to document. They validate input; the writes go through ``services.aiact_*``."""

from __future__ import annotations

from typing import Any

from django import forms

from modelworks.core.forms import PageForm
from modelworks.governance.services.aiact_classification import MAX_JUSTIFICATION, REQUIRED_KEYS
from modelworks.governance.services.aiact_questionnaire import (
    GROUPS,
    JUSTIFICATION_HELP,
    JUSTIFICATION_KEY,
    QUESTIONS,
    questions_of,
)

__all__ = ["AssessmentForm", "GenerateDocumentForm"]

YES_NO = [("yes", "Yes"), ("no", "No")]


class AssessmentForm(PageForm):
    """One radio yes/no per question (follow-ups and exemptions optional) and the exemption's justification."""

    def __init__(self, *args: Any, answers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        initial = {
            key: ("yes" if value else "no")
            for key, value in (answers or {}).items()
            if isinstance(value, bool)
        }
        if answers and isinstance(answers.get(JUSTIFICATION_KEY), str):
            initial[JUSTIFICATION_KEY] = answers[JUSTIFICATION_KEY]
        super().__init__(*args, initial=initial, **kwargs)
        for question in QUESTIONS:
            self.fields[question.key] = forms.ChoiceField(
                label=question.text,
                help_text=f"{question.help} ({question.basis})",
                choices=YES_NO,
                widget=forms.RadioSelect,
                required=question.key in REQUIRED_KEYS,
                error_messages={"required": "Answer yes or no."},
            )
        self.fields[JUSTIFICATION_KEY] = forms.CharField(
            label="Why does the exemption apply?",
            help_text=JUSTIFICATION_HELP,
            required=False,
            max_length=MAX_JUSTIFICATION,
            widget=forms.Textarea(attrs={"rows": 4}),
        )

    def groups(self) -> list[dict[str, Any]]:
        """The bound fields by section, for the template."""
        result = []
        for group in GROUPS:
            fields = [(q, self[q.key]) for q in questions_of(group.key)]
            if group.key == "exemption":
                fields.append((None, self[JUSTIFICATION_KEY]))
            result.append({"group": group, "fields": fields})
        return result

    def answers(self) -> dict[str, Any]:
        """The cleaned answers as the service takes them (unanswered optional questions left out)."""
        result: dict[str, Any] = {}
        for question in QUESTIONS:
            value = self.cleaned_data.get(question.key)
            if value in ("yes", "no"):
                result[question.key] = value == "yes"
        text = (self.cleaned_data.get(JUSTIFICATION_KEY) or "").strip()
        if text:
            result[JUSTIFICATION_KEY] = text
        return result


class GenerateDocumentForm(PageForm):
    """The model version to document: the champion of a linked project by default."""

    model_version = forms.ChoiceField(
        label="Model version",
        required=False,
        help_text="The version whose data, training, metrics and monitoring are documented.",
    )

    def __init__(self, *args: Any, versions: list[Any], default: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        label = f"Default: {_label(default)}" if default is not None else "Default: none (no champion)"
        self.fields["model_version"].choices = [("", label)] + [(str(v.pk), _label(v)) for v in versions]
        self.versions = {str(v.pk): v for v in versions}

    def chosen(self) -> Any:
        """The chosen ``ModelVersion``, or None for the default."""
        return self.versions.get(self.cleaned_data.get("model_version") or "")


def _label(version: Any) -> str:
    aliases = sorted(a.alias for a in version.aliases.all())
    tail = f" @{', @'.join(aliases)}" if aliases else ""
    return (
        f"{version.registered_model.project.name} / {version.registered_model.name} v{version.version}{tail}"
    )
