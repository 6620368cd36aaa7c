"""API schemas of scenarios, their triggers and steps, and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Schema

from modelworks.core.schemas import InputSchema, ProjectScopedOut, UserRef

__all__ = [
    "RunOut",
    "ScenarioIn",
    "ScenarioOut",
    "ScenarioPatch",
    "StepIn",
    "StepOut",
    "StepResultOut",
    "TriggerIn",
    "TriggerOut",
]

TriggerKindName = Literal["cron", "dataset_changed", "scenario_finished"]
OutcomeName = Literal["succeeded", "failed", "any"]
StepKindName = Literal["build", "quality", "job", "notify"]
ConditionName = Literal["always", "on_success", "on_failure"]
RunStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled", "skipped"]


class TriggerIn(InputSchema):
    kind: TriggerKindName
    cron: str = Field("", description="cron: five fields, evaluated in UTC, e.g. '0 6 * * 1-5'.")
    dataset: int | None = Field(None, description="dataset_changed: the dataset's id.")
    upstream: int | None = Field(None, description="scenario_finished: the id of the scenario to wait for.")
    outcome: OutcomeName = Field(
        "succeeded", description="scenario_finished: which ends of upstream start this one."
    )
    enabled: bool = True


class TriggerOut(Schema):
    id: int
    kind: TriggerKindName
    description: str
    cron: str
    dataset: int | None
    upstream: int | None
    outcome: OutcomeName
    enabled: bool
    last_fired_at: datetime | None
    next_fire_at: datetime | None = Field(description="cron: when it is next due (UTC).")
    next_times: list[datetime] = Field(description="cron: the next three times it fires (UTC).")

    @staticmethod
    def resolve_description(obj: Any) -> str:
        return str(obj.describe())

    @staticmethod
    def resolve_dataset(obj: Any) -> int | None:
        return obj.dataset_id

    @staticmethod
    def resolve_upstream(obj: Any) -> int | None:
        return obj.upstream_id

    @staticmethod
    def resolve_next_times(obj: Any) -> list[datetime]:
        from modelworks.scenarios.services.cron import next_times

        if obj.kind != "cron" or not obj.enabled or not obj.scenario.enabled:
            return []
        return next_times(obj.cron, timezone.now(), 3)


class StepIn(InputSchema):
    kind: StepKindName
    name: str = ""
    params: dict[str, Any] = Field(
        default_factory=dict,
        description='build: {"datasets": [ids] (empty: whole flow), "force": bool}; quality: {"datasets": [ids]}; '
        'job: {"job_type": "...", "params": {...}}; notify: {"channel": "webhook", "url": "https://…", '
        '"message": "…"} or {"channel": "email", "recipients": ["…"], "subject": "…", "message": "…"}.',
    )
    run_condition: ConditionName = "on_success"
    enabled: bool = True


class StepOut(Schema):
    id: int
    position: int
    kind: StepKindName
    name: str
    params: dict[str, Any]
    run_condition: ConditionName
    enabled: bool


class RunSummary(Schema):
    number: int
    status: RunStatusName
    created_at: datetime


class ScenarioIn(InputSchema):
    name: str
    description: str = ""
    enabled: bool = True
    run_as: str | None = Field(None, description="Username automatic runs act as; default: you.")
    triggers: list[TriggerIn] = Field(default_factory=list)
    steps: list[StepIn] = Field(default_factory=list, description="In the order they run.")


class ScenarioPatch(InputSchema):
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    run_as: str | None = Field(None, description="Username; only project admins may name someone else.")
    triggers: list[TriggerIn] | None = Field(None, description="Replaces every trigger when given.")
    steps: list[StepIn] | None = Field(None, description="Replaces every step when given, in order.")


class ScenarioOut(ProjectScopedOut):
    id: int
    name: str
    description: str
    enabled: bool
    created_by: UserRef | None
    run_as: UserRef | None
    triggers: list[TriggerOut]
    steps: list[StepOut]
    last_run: RunSummary | None = Field(description="The latest run that was not skipped.")

    @staticmethod
    def resolve_triggers(obj: Any) -> list[Any]:
        return list(obj.triggers.all())

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        return list(obj.steps.all())

    @staticmethod
    def resolve_last_run(obj: Any) -> Any:
        return obj.runs.exclude(status="skipped").order_by("-created_at", "-id").first()


class StepResultOut(Schema):
    position: int
    name: str
    kind: StepKindName
    condition: ConditionName
    status: Literal["pending", "running", "succeeded", "failed", "skipped", "cancelled"]
    message: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    jobs: list[str] = Field(default_factory=list, description="Ids of the jobs the step started.")
    links: dict[str, str] = Field(default_factory=dict, description="Label → page of the build or job.")
    build_id: int | None = None


class RunOut(Schema):
    id: int
    number: int
    scenario: int
    status: RunStatusName
    reason: str = Field(description="Why it was skipped, failed or cancelled.")
    trigger_kind: Literal["cron", "dataset_changed", "scenario_finished", "manual", "api"]
    trigger_detail: str
    triggered_by: UserRef | None
    acting_as: UserRef | None
    job_id: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    steps: list[StepResultOut]

    @staticmethod
    def resolve_scenario(obj: Any) -> int:
        return int(obj.scenario_id)

    @staticmethod
    def resolve_job_id(obj: Any) -> str | None:
        return str(obj.job_id) if obj.job_id else None

    @staticmethod
    def resolve_steps(obj: Any) -> list[dict[str, Any]]:
        return list(obj.step_results or [])
