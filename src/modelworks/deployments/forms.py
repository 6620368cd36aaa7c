"""Forms of the deployments pages. They validate input; the writes go through ``services``.

The pages offer a primary model and at most one second model (the challenger of an A/B split or
the shadow): the common cases, in plain words. The API accepts up to five targets.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator

from modelworks.core.forms import PageForm
from modelworks.core.models import Project
from modelworks.deployments.models import Deployment, DeploymentMode, TargetRole
from modelworks.deployments.services import TargetSpec
from modelworks.deployments.services.deployments import _max_rows_limit

__all__ = ["DeploymentForm", "EndpointTokenForm", "model_choices"]

MODE_HELP = {
    DeploymentMode.SINGLE: "One model answers every request.",
    DeploymentMode.AB: "Two models share the traffic (an A/B test); each answer says which version gave it.",
    DeploymentMode.SHADOW: "The main model answers; the second one scores the same rows silently, for comparison.",
}


def model_choices(project: Project) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices of what a target can serve: each model's aliases (with the version they point
    at now), then its versions, newest first. Values: ``alias:<model id>:<alias>`` or ``version:<id>``."""
    from modelworks.registry.models import ModelAlias, ModelVersion, RegisteredModel

    groups: list[tuple[str, list[tuple[str, str]]]] = []
    models = list(RegisteredModel.objects.filter(project=project).order_by("name"))
    aliases: dict[int, list[Any]] = {}
    for alias in (
        ModelAlias.objects.filter(registered_model__in=models)
        .select_related("model_version")
        .order_by("alias")
    ):
        aliases.setdefault(alias.registered_model_id, []).append(alias)
    versions: dict[int, list[Any]] = {}
    for version in ModelVersion.objects.filter(registered_model__in=models).order_by("-version"):
        versions.setdefault(version.registered_model_id, []).append(version)
    for model in models:
        options = [
            (
                f"alias:{model.pk}:{a.alias}",
                f"{model.name} @{a.alias} (now version {a.model_version.version}; follows promotions)",
            )
            for a in aliases.get(model.pk, [])
        ]
        options += [
            (f"version:{v.pk}", f"{model.name} version {v.version} (fixed)")
            for v in versions.get(model.pk, [])
        ]
        if options:
            groups.append((model.name, options))
    return groups


def _spec(project: Project, value: str, role: str, weight: int | None) -> TargetSpec:
    """The ``TargetSpec`` of a choice value (checked again by the service)."""
    from modelworks.registry.models import ModelVersion, RegisteredModel

    kind, _, rest = value.partition(":")
    if kind == "alias":
        model_id, _, alias = rest.partition(":")
        model = RegisteredModel.objects.filter(
            project=project, pk=model_id if model_id.isdigit() else 0
        ).first()
        if model is not None and alias:
            return TargetSpec(model=model.name, alias=alias, role=role, weight=weight)
    elif kind == "version" and rest.isdigit():
        version = (
            ModelVersion.objects.filter(registered_model__project=project, pk=rest)
            .select_related("registered_model")
            .first()
        )
        if version is not None:
            return TargetSpec(
                model=version.registered_model.name, version=version.version, role=role, weight=weight
            )
    raise ValidationError("That model is no longer in the registry; choose another.")


def choice_of(target: Any) -> str:
    """The choice value of an existing target."""
    if target.alias:
        return f"alias:{target.registered_model_id}:{target.alias}"
    return f"version:{target.model_version_id}"


class DeploymentForm(PageForm):
    """Create or edit a deployment: the endpoint name (create only), the models and the settings."""

    name = forms.SlugField(
        max_length=63,
        label="Endpoint name",
        help_text="Callers use /score/<name>. Lowercase letters, digits and hyphens, e.g. late-departures.",
    )
    title = forms.CharField(max_length=200, required=False, help_text="A readable title for this page.")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="What it serves and to whom."
    )
    mode = forms.ChoiceField(
        choices=DeploymentMode.choices,
        initial=DeploymentMode.SINGLE,
        widget=forms.RadioSelect,
        label="How requests are routed",
    )
    primary = forms.ChoiceField(
        label="Model that answers",
        help_text="An alias such as @champion follows promotions at once; a fixed version never changes.",
    )
    second = forms.ChoiceField(
        required=False,
        label="Second model (A/B or shadow)",
        help_text="The challenger of an A/B test, or the model scoring silently in shadow mode.",
    )
    second_share = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=99,
        initial=10,
        label="Traffic to the second model (%)",
        help_text="A/B only: the rest goes to the model that answers.",
    )
    log_percent = forms.IntegerField(
        min_value=0,
        max_value=100,
        initial=100,
        label="Requests to log (%)",
        help_text="Logged rows feed monitoring and the recent traffic below; 100 keeps everything.",
    )
    max_rows = forms.IntegerField(min_value=1, label="Largest batch (rows per request)")
    id_column = forms.CharField(
        max_length=200,
        required=False,
        label="Row ID column",
        help_text="An input column holding your own ID for each row, to send the true outcome later.",
    )
    explain_allowed = forms.BooleanField(
        required=False, label="Allow explanations (?explain=true): why each prediction, slower"
    )

    def __init__(
        self, *args: Any, project: Project, deployment: Deployment | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.deployment = deployment
        groups = model_choices(project)
        self.fields["primary"].choices = [("", "Choose a registered model…"), *groups]
        self.fields["second"].choices = [("", "None"), *groups]
        limit = _max_rows_limit()
        self.fields["max_rows"].validators.append(MaxValueValidator(limit))
        self.fields["max_rows"].widget.attrs["max"] = limit
        self.fields["max_rows"].help_text = f"At most {limit:,} on this instance."
        if deployment is not None:
            del self.fields["name"]
            if not self.is_bound:
                self._initial_from(deployment)
        elif not self.is_bound:
            self.initial.setdefault("max_rows", limit)

    def _initial_from(self, deployment: Deployment) -> None:
        targets = list(deployment.targets.order_by("id"))
        primary = next((t for t in targets if t.role == TargetRole.PRIMARY), None)
        second = next((t for t in targets if t.role != TargetRole.PRIMARY), None)
        self.initial.update(
            title=deployment.title,
            description=deployment.description,
            mode=deployment.mode,
            primary=choice_of(primary) if primary else "",
            second=choice_of(second) if second else "",
            second_share=second.weight if second and deployment.mode == DeploymentMode.AB else 10,
            log_percent=round(deployment.log_sample_rate * 100),
            max_rows=deployment.max_rows,
            id_column=deployment.id_column,
            explain_allowed=deployment.explain_allowed,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mode = data.get("mode")
        if mode in (DeploymentMode.AB, DeploymentMode.SHADOW) and not data.get("second"):
            self.add_error("second", "Choose the second model, or route everything to one model.")
        if mode == DeploymentMode.AB and data.get("second_share") in (None, ""):
            self.add_error("second_share", "Say which share of the traffic goes to the second model.")
        return data

    def targets(self) -> list[TargetSpec]:
        """The targets chosen (after ``is_valid``).

        Raises:
            ValidationError: a chosen model vanished meanwhile.
        """
        data = self.cleaned_data
        mode = data["mode"]
        if mode == DeploymentMode.AB:
            share = int(data["second_share"])
            return [
                _spec(self.project, data["primary"], TargetRole.PRIMARY, 100 - share),
                _spec(self.project, data["second"], TargetRole.CHALLENGER, share),
            ]
        specs = [_spec(self.project, data["primary"], TargetRole.PRIMARY, None)]
        if mode == DeploymentMode.SHADOW:
            specs.append(_spec(self.project, data["second"], TargetRole.SHADOW, None))
        return specs

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data.get("title") or "",
            "description": data.get("description") or "",
            "log_sample_rate": data["log_percent"] / 100.0,
            "max_rows": data["max_rows"],
            "id_column": data.get("id_column") or "",
            "explain_allowed": bool(data.get("explain_allowed")),
        }


class EndpointTokenForm(PageForm):
    name = forms.CharField(
        max_length=100, label="Token name", help_text="Who calls with it, e.g. billing app."
    )
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="Expires after (days)", help_text="Empty: never."
    )
