"""Forms of the monitoring pages. They convert input; the rules live in the services (one message for
the page and the API)."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from modelworks.core.forms import PageForm
from modelworks.core.models import Project
from modelworks.monitoring.models import LabelsSource, Monitor, Window

__all__ = ["BacktestForm", "MonitorForm", "split_list"]


def split_list(text: str) -> list[str]:
    """Items separated by commas or new lines, blanks dropped."""
    return [item.strip() for item in re.split(r"[,\n]", text or "") if item.strip()]


def _versions(project: Project) -> list[tuple[str, str]]:
    from modelworks.datasets.models import DatasetVersion

    versions = (
        DatasetVersion.objects.filter(dataset__project=project)
        .select_related("dataset")
        .order_by("dataset__name", "-number")
    )
    return [(str(v.pk), f"{v.dataset.name} v{v.number}") for v in versions[:500]]


class MonitorForm(PageForm):
    name = forms.CharField(max_length=200)
    source = forms.ChoiceField(
        help_text="The deployment or batch-scoring recipe whose predictions are watched."
    )
    reference_version = forms.ChoiceField(
        required=False,
        label="Reference data",
        help_text="What normal data looks like. Empty: the data the model was trained on.",
    )
    features = forms.CharField(
        required=False,
        help_text="Columns to watch, separated by commas. Empty: every input of the model.",
    )
    target_column = forms.CharField(
        required=False,
        label="Outcome column of the reference",
        help_text="Lets prediction drift compare with the real outcomes; empty: with the first window.",
    )
    window = forms.ChoiceField(choices=Window.choices, initial=Window.DAY, label="Compare per")
    labels_source = forms.ChoiceField(
        choices=LabelsSource.choices, initial=LabelsSource.NONE, label="True outcomes (labels) from"
    )
    labels_dataset = forms.ChoiceField(required=False, help_text="For a labels dataset: which one.")
    labels_id_column = forms.CharField(required=False, label="Its row ID column")
    labels_label_column = forms.CharField(required=False, label="Its label column")
    performance_metric = forms.CharField(
        required=False, help_text="E.g. roc_auc, accuracy, rmse. Empty: the usual metric of the task."
    )
    performance_margin = forms.FloatField(
        initial=0.1,
        min_value=0,
        max_value=1,
        help_text="Alert when the metric is this much worse than at registration (0.1 = 10 %).",
    )
    quality_tolerance = forms.FloatField(
        initial=0.05,
        min_value=0,
        max_value=1,
        help_text="Share of rows with missing or unknown values tolerated.",
    )
    webhook_url = forms.CharField(
        required=False, help_text="An allow-listed https address that receives alerts."
    )
    email_recipients = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Addresses, separated by commas."
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Compute on schedule")

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from modelworks.datasets.models import Dataset
        from modelworks.deployments.models import Deployment
        from modelworks.flows.models import Recipe

        self.project = project
        sources = [
            (f"deployment:{d.pk}", f"Deployment {d.name}") for d in Deployment.objects.filter(project=project)
        ]
        sources += [
            (f"recipe:{r.pk}", f"Batch scoring {r.name}")
            for r in Recipe.objects.filter(project=project, kind="score")
        ]
        self.fields["source"].choices = [("", "Choose…"), *sources]
        self.fields["reference_version"].choices = [("", "The model's training data"), *_versions(project)]
        datasets = Dataset.objects.filter(project=project).order_by("name")
        self.fields["labels_dataset"].choices = [("", "-"), *((str(d.pk), d.name) for d in datasets)]

    @staticmethod
    def initial_of(monitor: Monitor) -> dict[str, Any]:
        return {
            "name": monitor.name,
            "source": f"deployment:{monitor.deployment_id}"
            if monitor.deployment_id
            else f"recipe:{monitor.recipe_id}",
            "reference_version": str(monitor.reference_version_id or ""),
            "features": ", ".join(monitor.features),
            "target_column": monitor.target_column,
            "window": monitor.window,
            "labels_source": monitor.labels_source,
            "labels_dataset": str(monitor.labels_dataset_id or ""),
            "labels_id_column": monitor.labels_id_column,
            "labels_label_column": monitor.labels_label_column,
            "performance_metric": monitor.performance_metric,
            "performance_margin": monitor.performance_margin,
            "quality_tolerance": monitor.quality_tolerance,
            "webhook_url": monitor.webhook_url,
            "email_recipients": ", ".join(monitor.email_recipients),
            "enabled": monitor.enabled,
        }

    def values(self) -> dict[str, Any]:
        """Model values for ``create_monitor`` / ``update_monitor``."""
        from modelworks.datasets.models import Dataset, DatasetVersion
        from modelworks.deployments.models import Deployment
        from modelworks.flows.models import Recipe

        data = self.cleaned_data
        kind, _, pk = data["source"].partition(":")
        ref = data.get("reference_version") or ""
        labels = data.get("labels_dataset") or ""
        return {
            "name": data["name"],
            "deployment": Deployment.objects.filter(project=self.project, pk=pk).first()
            if kind == "deployment"
            else None,
            "recipe": Recipe.objects.filter(project=self.project, pk=pk).first()
            if kind == "recipe"
            else None,
            "reference_version": DatasetVersion.objects.filter(dataset__project=self.project, pk=ref).first()
            if ref
            else None,
            "features": split_list(data.get("features", "")),
            "target_column": data.get("target_column", ""),
            "window": data["window"],
            "labels_source": data["labels_source"],
            "labels_dataset": Dataset.objects.filter(project=self.project, pk=labels).first()
            if labels
            else None,
            "labels_id_column": data.get("labels_id_column", ""),
            "labels_label_column": data.get("labels_label_column", ""),
            "performance_metric": data.get("performance_metric", ""),
            "performance_margin": data["performance_margin"],
            "quality_tolerance": data["quality_tolerance"],
            "webhook_url": data.get("webhook_url", ""),
            "email_recipients": split_list(data.get("email_recipients", "")),
            "enabled": bool(data.get("enabled")),
        }


class BacktestForm(PageForm):
    name = forms.CharField(max_length=200)
    dataset_version = forms.ChoiceField(label="Labelled data", help_text="Past rows with their true outcome.")
    time_column = forms.CharField(help_text="The column with the date of each row.")
    target_column = forms.CharField(label="Outcome column", help_text="The column with the true outcome.")
    model_versions = forms.MultipleChoiceField(help_text="One or several versions to compare.")
    window = forms.ChoiceField(choices=Window.choices, initial=Window.MONTH, label="Compare per")
    metric = forms.CharField(required=False, help_text="Empty: the usual metric of the task.")

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from modelworks.registry.models import ModelVersion

        self.project = project
        self.fields["dataset_version"].choices = [("", "Choose…"), *_versions(project)]
        versions = ModelVersion.objects.filter(registered_model__project=project).select_related(
            "registered_model"
        )
        self.fields["model_versions"].choices = [(str(v.pk), str(v)) for v in versions[:300]]

    def values(self) -> dict[str, Any]:
        from modelworks.datasets.models import DatasetVersion
        from modelworks.registry.models import ModelVersion

        data = self.cleaned_data
        return {
            "name": data["name"],
            "dataset_version": DatasetVersion.objects.filter(
                dataset__project=self.project, pk=data["dataset_version"]
            ).first(),
            "time_column": data["time_column"],
            "target_column": data["target_column"],
            "model_versions": list(
                ModelVersion.objects.filter(
                    registered_model__project=self.project, pk__in=data["model_versions"]
                )
            ),
            "window": data["window"],
            "metric": data.get("metric", ""),
        }
