"""Forms of the scenario pages. They shape input; the checks that matter live in the services, whose
field-keyed errors are shown on these forms (``add_service_error``)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q

from modelworks.core.forms import PageForm
from modelworks.core.models import Project, ProjectMembership, Role, User
from modelworks.datasets.models import Dataset
from modelworks.scenarios.models import OutcomeFilter, RunCondition, Scenario, StepKind, Trigger, TriggerKind
from modelworks.scenarios.services.definitions import DEFAULT_MESSAGE
from modelworks.scenarios.services.notify import PLACEHOLDERS

__all__ = ["ScenarioForm", "ScenarioSettingsForm", "StepForm", "TriggerForm"]

#: When each field of the trigger and step forms applies: ``field → "kind=a b; channel=c"`` (every
#: condition must hold). Set as ``data-show-if`` on the widget: ``scenarios.js`` hides the others as
#: the choice changes; without JavaScript every field shows (the services ignore the others).
TRIGGER_FIELDS_SHOWN = {
    "cron": "kind=cron",
    "dataset": "kind=dataset_changed",
    "upstream": "kind=scenario_finished",
    "outcome": "kind=scenario_finished",
}
STEP_FIELDS_SHOWN = {
    "datasets": "kind=build quality",
    "force": "kind=build",
    "job_type": "kind=job",
    "job_params": "kind=job",
    "channel": "kind=notify",
    "url": "kind=notify; channel=webhook",
    "recipients": "kind=notify; channel=email",
    "subject": "kind=notify; channel=email",
    "message": "kind=notify",
}


def _show_if(form: forms.Form, shown: dict[str, str]) -> None:
    for name, condition in shown.items():
        form.fields[name].widget.attrs["data-show-if"] = condition


_PLACEHOLDER_HELP = "Placeholders: " + ", ".join("{" + name + "}" for name in PLACEHOLDERS) + "."


class ScenarioForm(PageForm):
    name = forms.CharField(max_length=200, help_text="E.g. “Nightly refresh”.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _contributors(project: Project) -> list[User]:
    """Active users holding at least the contributor role in ``project`` (directly, by group, or as instance admins)."""
    roles = Role.at_least(Role.CONTRIBUTOR)
    members = ProjectMembership.objects.filter(project=project, role__in=roles)
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(pk__in=members.values("user_id"))
            | Q(groups__in=members.values("group_id"))
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("username")
    )


class ScenarioSettingsForm(ScenarioForm):
    enabled = forms.BooleanField(
        required=False, label="Enabled", help_text="When off, triggers do not fire; “Run now” still works."
    )
    run_as = forms.ChoiceField(
        label="Run as",
        help_text="Automatic runs use this person's permissions; only project admins may choose someone else.",
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users = {str(u.pk): u for u in _contributors(project)}
        self.fields["run_as"].choices = [(pk, u.get_username()) for pk, u in self.users.items()]

    @classmethod
    def for_scenario(cls, scenario: Scenario, data: Any = None) -> ScenarioSettingsForm:
        initial = {
            "name": scenario.name,
            "description": scenario.description,
            "enabled": scenario.enabled,
            "run_as": str(scenario.run_as_id or ""),
        }
        return cls(data, initial=initial, project=scenario.project)

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "enabled": data["enabled"],
            "run_as": self.users[data["run_as"]],
        }


class TriggerForm(PageForm):
    kind = forms.ChoiceField(choices=TriggerKind.choices, label="Starts when")
    cron = forms.CharField(
        required=False,
        label="Schedule (cron, UTC)",
        help_text="Five fields: minute hour day-of-month month day-of-week, e.g. 0 6 * * 1-5 (weekdays 06:00 UTC).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono"}),
    )
    dataset = forms.ChoiceField(required=False, label="Dataset", help_text="For “Dataset changed”.")
    upstream = forms.ChoiceField(
        required=False, label="Scenario", help_text="For “Another scenario finished”."
    )
    outcome = forms.ChoiceField(
        choices=OutcomeFilter.choices, initial=OutcomeFilter.SUCCEEDED, label="With outcome"
    )

    def __init__(self, *args: Any, scenario: Scenario, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "trigger_%s")  # the step form is on the same page
        super().__init__(*args, **kwargs)
        project = scenario.project
        self.fields["dataset"].choices = [("", "—")] + [
            (str(d.pk), d.name) for d in Dataset.objects.filter(project=project).order_by("name")
        ]
        self.fields["upstream"].choices = [("", "—")] + [
            (str(s.pk), s.name) for s in Scenario.objects.filter(project=project).exclude(pk=scenario.pk)
        ]
        _show_if(self, TRIGGER_FIELDS_SHOWN)

    @classmethod
    def for_trigger(cls, trigger: Trigger, data: Any = None) -> TriggerForm:
        """The form of an existing trigger, filled with its settings."""
        initial = {
            "kind": trigger.kind,
            "cron": trigger.cron,
            "dataset": str(trigger.dataset_id or ""),
            "upstream": str(trigger.upstream_id or ""),
            "outcome": trigger.outcome,
        }
        return cls(data, initial=initial, scenario=trigger.scenario)

    def fields_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "cron": data["cron"],
            "dataset": int(data["dataset"]) if data["dataset"] else None,
            "upstream": int(data["upstream"]) if data["upstream"] else None,
            "outcome": data["outcome"],
        }


class StepForm(PageForm):
    kind = forms.ChoiceField(choices=StepKind.choices, label="Step")
    name = forms.CharField(required=False, max_length=200, help_text="Shown in the run history.")
    run_condition = forms.ChoiceField(
        choices=RunCondition.choices, initial=RunCondition.ON_SUCCESS, label="Runs"
    )
    datasets = forms.MultipleChoiceField(
        required=False,
        help_text="Build: the datasets to build (none: the whole flow). Quality: the datasets to check.",
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    force = forms.BooleanField(required=False, label="Rebuild even what is up to date")
    job_type = forms.ChoiceField(required=False, label="Job type")
    job_params = forms.CharField(
        required=False,
        label="Job parameters (JSON)",
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        initial="{}",
    )
    channel = forms.ChoiceField(
        required=False, choices=[("", "—"), ("webhook", "Webhook (POST JSON)"), ("email", "E-mail")]
    )
    url = forms.CharField(
        required=False,
        label="Webhook address",
        help_text="Only hosts on the instance's webhook allow-list can be reached.",
    )
    recipients = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="E-mail addresses, one per line."
    )
    subject = forms.CharField(required=False, max_length=200, initial="[Modelworks] {scenario} {outcome}")
    message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        initial=DEFAULT_MESSAGE,
        help_text=_PLACEHOLDER_HELP,
    )

    def __init__(self, *args: Any, scenario: Scenario, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "step_%s")
        super().__init__(*args, **kwargs)
        self.fields["datasets"].choices = [
            (str(d.pk), d.name) for d in Dataset.objects.filter(project=scenario.project).order_by("name")
        ]
        allowed = list(getattr(settings, "MODELWORKS_SCENARIO_JOB_TYPES", []) or [])
        self.fields["job_type"].choices = [("", "—")] + [(k, k) for k in allowed]
        if not allowed:
            self.fields["job_type"].help_text = "No job type is allowed on this instance yet."
        _show_if(self, STEP_FIELDS_SHOWN)

    @classmethod
    def for_step(cls, step: Any, data: Any = None) -> StepForm:
        params = step.params
        initial = {
            "kind": step.kind,
            "name": step.name,
            "run_condition": step.run_condition,
            "datasets": [str(i) for i in params.get("datasets", [])],
            "force": params.get("force", False),
            "job_type": params.get("job_type", ""),
            "job_params": json.dumps(params.get("params", {})),
            "channel": params.get("channel", ""),
            "url": params.get("url", ""),
            "recipients": "\n".join(params.get("recipients", [])),
            "subject": params.get("subject", "[Modelworks] {scenario} {outcome}"),
            "message": params.get("message", DEFAULT_MESSAGE),
        }
        return cls(data, initial=initial, scenario=step.scenario)

    def clean_job_params(self) -> dict[str, Any]:
        text = self.cleaned_data.get("job_params") or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"This is not JSON ({exc.msg} at character {exc.pos}).") from exc
        if not isinstance(value, dict):
            raise ValidationError('Give a JSON object, e.g. {"model": 3}.')
        return value

    def fields_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["kind"]
        params: dict[str, Any]
        if kind == StepKind.BUILD:
            params = {"datasets": [int(i) for i in data["datasets"]], "force": data["force"]}
        elif kind == StepKind.QUALITY:
            params = {"datasets": [int(i) for i in data["datasets"]]}
        elif kind == StepKind.JOB:
            params = {"job_type": data["job_type"], "params": data["job_params"]}
        elif data["channel"] == "email":
            params = {
                "channel": "email",
                "recipients": data["recipients"],
                "subject": data["subject"],
                "message": data["message"],
            }
        else:
            params = {"channel": data["channel"], "url": data["url"], "message": data["message"]}
        return {"kind": kind, "name": data["name"], "run_condition": data["run_condition"], "params": params}
