"""Checking what a trigger or a step says, before it is saved (the pages and the API share these).

Every check raises a field-keyed ``ValidationError`` with a message that says what to change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from modelworks.core.jobs import InvalidJobParamsError, UnknownJobTypeError, job_type
from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.scenarios.models import OutcomeFilter, RunCondition, Scenario, StepKind, Trigger, TriggerKind
from modelworks.scenarios.services.cron import next_times, validate_cron
from modelworks.scenarios.services.notify import (
    NotificationError,
    check_webhook_url,
    validate_message,
    validate_recipients,
)

__all__ = [
    "DEFAULT_MESSAGE",
    "check_trigger",
    "clean_step_params",
    "describe_step",
    "downstream_of",
    "next_fire_time",
]

DEFAULT_MESSAGE = "Scenario {scenario} {outcome}: {url}"
_STEP_KEYS = {
    StepKind.BUILD: {"datasets", "force"},
    StepKind.QUALITY: {"datasets"},
    StepKind.JOB: {"job_type", "params"},
    StepKind.NOTIFY: {"channel", "url", "recipients", "subject", "message"},
}


def next_fire_time(trigger: Trigger, now: dt.datetime | None = None) -> dt.datetime | None:
    """When an enabled schedule trigger is next due (None for other kinds or when disabled)."""
    if trigger.kind != TriggerKind.CRON or not trigger.enabled or not trigger.cron:
        return None
    return next_times(trigger.cron, now or timezone.now(), 1)[0]


def downstream_of(scenario: Scenario) -> set[int]:
    """IDs of the scenarios that a run of ``scenario`` starts, directly or through others."""
    edges: dict[int, set[int]] = {}
    rows = Trigger.objects.filter(
        kind=TriggerKind.SCENARIO_FINISHED, scenario__project_id=scenario.project_id
    )
    for upstream_id, scenario_id in rows.values_list("upstream_id", "scenario_id"):
        edges.setdefault(upstream_id, set()).add(scenario_id)
    seen: set[int] = set()
    todo = [scenario.pk]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def check_trigger(trigger: Trigger) -> None:
    """Check a trigger (unsaved or changed) of ``trigger.scenario`` and fill ``next_fire_at``.

    Raises:
        ValidationError: keyed by the field at fault.
    """
    scenario = trigger.scenario
    if trigger.kind not in TriggerKind.values:
        raise ValidationError(
            {"kind": f"'{trigger.kind}' is not a trigger kind; use one of {', '.join(TriggerKind.values)}."}
        )
    if trigger.outcome not in OutcomeFilter.values:
        raise ValidationError({"outcome": f"Use one of {', '.join(OutcomeFilter.values)}."})
    if trigger.kind == TriggerKind.CRON:
        trigger.cron = validate_cron(trigger.cron)
        trigger.dataset, trigger.upstream = None, None
    elif trigger.kind == TriggerKind.DATASET_CHANGED:
        if trigger.dataset is None:
            raise ValidationError({"dataset": "Choose the dataset whose new versions start the scenario."})
        if trigger.dataset.project_id != scenario.project_id:
            raise ValidationError({"dataset": "The dataset must belong to the scenario's project."})
        trigger.cron, trigger.upstream = "", None
    else:
        upstream = trigger.upstream
        if upstream is None:
            raise ValidationError({"upstream": "Choose the scenario whose end starts this one."})
        if upstream.project_id != scenario.project_id:
            raise ValidationError({"upstream": "The scenario must belong to the same project."})
        if upstream.pk == scenario.pk or (scenario.pk and upstream.pk in downstream_of(scenario)):
            raise ValidationError(
                {
                    "upstream": f"'{upstream.name}' already runs after '{scenario.name}' (directly or through "
                    "other scenarios); starting it again would loop forever. Remove one of the two triggers."
                }
            )
        trigger.cron, trigger.dataset = "", None
    trigger.next_fire_at = next_fire_time(trigger)


def _dataset_ids(project: Project, value: Any, *, required: bool) -> list[int]:
    if value in (None, ""):
        value = []
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ValidationError({"datasets": "Give a list of dataset IDs, e.g. [3, 7]."})
    ids = list(dict.fromkeys(value))
    if required and not ids:
        raise ValidationError({"datasets": "Choose at least one dataset."})
    found = set(Dataset.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True))
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationError(
            {
                "datasets": f"No dataset {', '.join(missing)} in project '{project.slug}'; pick from its datasets."
            }
        )
    return ids


def _recipients(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.replace(";", ",").replace("\n", ",").split(",")
    if not isinstance(value, list):
        raise ValidationError({"recipients": "Give a list of e-mail addresses."})
    return validate_recipients([str(v) for v in value])


def _allowed_job_types() -> Iterable[str]:
    return list(getattr(settings, "MODELWORKS_SCENARIO_JOB_TYPES", []) or [])


def clean_step_params(project: Project, kind: str, params: Any, run_condition: str) -> dict[str, Any]:
    """Check a step's parameters for its kind and return them normalised.

    Raises:
        ValidationError: keyed by the parameter at fault (``datasets``, ``url``, ``message``…).
    """
    if kind not in StepKind.values:
        raise ValidationError(
            {"kind": f"'{kind}' is not a step kind; use one of {', '.join(StepKind.values)}."}
        )
    if run_condition not in RunCondition.values:
        raise ValidationError(
            {
                "run_condition": f"'{run_condition}' is not a condition; use one of {', '.join(RunCondition.values)}."
            }
        )
    if not isinstance(params, dict):
        raise ValidationError({"params": "Step parameters must be a JSON object."})
    unknown = sorted(set(params) - _STEP_KEYS[StepKind(kind)])
    if unknown:
        raise ValidationError(
            {
                unknown[
                    0
                ]: f"A {kind} step has no parameter '{unknown[0]}'; it takes {', '.join(sorted(_STEP_KEYS[StepKind(kind)]))}."
            }
        )
    if kind == StepKind.BUILD:
        force = params.get("force", False)
        if not isinstance(force, bool):
            raise ValidationError({"force": "force is true or false."})
        return {"datasets": _dataset_ids(project, params.get("datasets"), required=False), "force": force}
    if kind == StepKind.QUALITY:
        return {"datasets": _dataset_ids(project, params.get("datasets"), required=True)}
    if kind == StepKind.JOB:
        name = str(params.get("job_type") or "")
        allowed = _allowed_job_types()
        if name not in allowed:
            choices = ", ".join(allowed) or "none on this instance (MODELWORKS_SCENARIO_JOB_TYPES is empty)"
            raise ValidationError(
                {"job_type": f"'{name}' cannot be run by a scenario; allowed job types: {choices}."}
            )
        job_params = params.get("params") or {}
        if not isinstance(job_params, dict):
            raise ValidationError({"params": "The job's parameters must be a JSON object."})
        try:
            job_params = job_type(name).clean_params(dict(job_params))
        except UnknownJobTypeError as exc:
            raise ValidationError({"job_type": str(exc)}) from exc
        except (InvalidJobParamsError, ValueError, TypeError) as exc:
            raise ValidationError({"params": str(exc)}) from exc
        return {"job_type": name, "params": job_params}
    channel = params.get("channel")
    message = validate_message(str(params.get("message") or DEFAULT_MESSAGE))
    if len(message) > 4000:
        raise ValidationError({"message": "Keep the message under 4,000 characters."})
    if channel == "webhook":
        url = str(params.get("url") or "").strip()
        try:
            check_webhook_url(url, resolve=False)
        except NotificationError as exc:
            raise ValidationError({"url": str(exc)}) from exc
        return {"channel": "webhook", "url": url, "message": message}
    if channel == "email":
        subject = validate_message(str(params.get("subject") or "[Modelworks] {scenario} {outcome}"))
        return {
            "channel": "email",
            "recipients": _recipients(params.get("recipients")),
            "subject": subject[:200],
            "message": message,
        }
    raise ValidationError({"channel": "Choose how to notify: 'webhook' or 'email'."})


def describe_step(project: Project, kind: str, params: dict[str, Any]) -> str:
    """What a step does, in a sentence for lists ("Build Flights (forced)", "E-mail to ops@…")."""
    ids = list(params.get("datasets") or [])
    names = dict(Dataset.objects.filter(project=project, pk__in=ids).values_list("pk", "name"))
    listed = ", ".join(names.get(i, f"deleted dataset {i}") for i in ids)
    if kind == StepKind.BUILD:
        what = f"Build {listed}" if ids else "Build the whole flow"
        return what + (" (forced: even what is up to date)" if params.get("force") else "")
    if kind == StepKind.QUALITY:
        return f"Check the quality rules of {listed}"
    if kind == StepKind.JOB:
        return f"Run the job {params.get('job_type')}"
    if params.get("channel") == "email":
        return "E-mail to " + ", ".join(params.get("recipients") or [])
    host = urlsplit(str(params.get("url") or "")).hostname or "?"
    return f"Webhook to {host}"
