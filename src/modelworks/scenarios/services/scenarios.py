"""Creating and changing scenarios, their triggers and their steps: checked, atomic and audited.

Views and API routes check the caller's project role first (contributors write), then call these.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project, Role, User
from modelworks.datasets.models import Dataset
from modelworks.scenarios.models import RunCondition, Scenario, Step, Trigger
from modelworks.scenarios.services.definitions import check_trigger, clean_step_params

__all__ = [
    "add_step",
    "add_trigger",
    "check_run_as",
    "create_scenario",
    "delete_scenario",
    "delete_step",
    "delete_trigger",
    "move_step",
    "update_scenario",
    "update_step",
    "update_trigger",
]

_SCENARIO_FIELDS = {"name", "description", "enabled", "run_as"}
_TRIGGER_FIELDS = {"kind", "cron", "dataset", "upstream", "outcome", "enabled"}
_STEP_FIELDS = {"name", "kind", "params", "run_condition", "enabled"}


def check_run_as(project: Project, actor: User, user: User | None) -> User:
    """The user automatic runs act as: a contributor of ``project``; only admins may pick someone else.

    Raises:
        ValidationError: keyed ``run_as``.
    """
    if user is None:
        user = actor
    if user.pk != actor.pk:
        role = project.role_of(actor)
        if not (role is not None and role.allows(Role.ADMIN)):
            raise ValidationError(
                {
                    "run_as": "Only project admins may make a scenario run as someone else; leave it as yourself."
                }
            )
    role = project.role_of(user)
    if not user.is_active or role is None or not role.allows(Role.CONTRIBUTOR):
        raise ValidationError(
            {
                "run_as": f"{user.get_username()} is not a contributor of '{project.name}'; choose a contributor."
            }
        )
    return user


def _unique_name(project: Project, name: str, exclude: int | None = None) -> None:
    rows = Scenario.objects.filter(project=project, name=name)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    if rows.exists():
        raise ValidationError(
            {"name": f"A scenario called '{name}' already exists in this project; choose another name."}
        )


def _record(
    action: str, scenario: Scenario, actor: User, request: HttpRequest | None, **details: Any
) -> None:
    audit.record(
        action,
        actor=actor,
        project=scenario.project,
        target=scenario,
        request=request,
        details={"scenario_id": scenario.pk, **details},
    )


def create_scenario(
    project: Project,
    *,
    actor: User,
    name: str,
    description: str = "",
    enabled: bool = True,
    run_as: User | None = None,
    triggers: list[dict[str, Any]] | None = None,
    steps: list[dict[str, Any]] | None = None,
    request: HttpRequest | None = None,
) -> Scenario:
    """Create a scenario, with its triggers and steps (dicts of their fields) if given.

    Raises:
        ValidationError: a field, trigger or step is invalid (nothing is created then).
    """
    scenario = Scenario(
        project=project,
        name=name,
        description=description,
        enabled=enabled,
        created_by=actor,
        run_as=check_run_as(project, actor, run_as),
    )
    scenario.full_clean(
        exclude=["project", "created_by", "run_as"], validate_unique=False, validate_constraints=False
    )
    _unique_name(project, name)
    with transaction.atomic():
        scenario.save()
        _replace_children(scenario, triggers or [], steps or [])
        _record(
            "scenario.created",
            scenario,
            actor,
            request,
            triggers=scenario.triggers.count(),
            steps=scenario.steps.count(),
        )
    return scenario


def _replace_children(
    scenario: Scenario, triggers: list[dict[str, Any]] | None, steps: list[dict[str, Any]] | None
) -> None:
    """Inside a transaction: replace the scenario's triggers and/or steps (None: keep them)."""
    if triggers is not None:
        scenario.triggers.all().delete()
        for index, data in enumerate(triggers):
            try:
                _save_trigger(Trigger(scenario=scenario), data)
            except ValidationError as exc:
                raise _prefixed(exc, f"triggers.{index}") from exc
    if steps is not None:
        scenario.steps.all().delete()
        for index, data in enumerate(steps):
            try:
                _save_step(Step(scenario=scenario, position=index + 1), data)
            except ValidationError as exc:
                raise _prefixed(exc, f"steps.{index}") from exc


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError({f"{prefix}.{field}": errors for field, errors in exc.error_dict.items()})
    return ValidationError({prefix: exc.messages})


def update_scenario(
    scenario: Scenario,
    *,
    actor: User,
    request: HttpRequest | None = None,
    triggers: list[dict[str, Any]] | None = None,
    steps: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> Scenario:
    """Change a scenario's name, description, ``enabled`` or ``run_as``; replace its triggers or steps when given."""
    unknown = set(changes) - _SCENARIO_FIELDS
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field of a scenario cannot be changed."})
    if "run_as" in changes:
        chosen = changes["run_as"]
        if chosen is not None and chosen.pk == scenario.run_as_id:
            del changes["run_as"]  # unchanged: whoever edits the scenario keeps the admin's choice
        else:
            changes["run_as"] = check_run_as(scenario.project, actor, chosen)
    for key, value in changes.items():
        setattr(scenario, key, value)
    scenario.full_clean(
        exclude=["project", "created_by", "run_as"], validate_unique=False, validate_constraints=False
    )
    if "name" in changes:
        _unique_name(scenario.project, scenario.name, exclude=scenario.pk)
    with transaction.atomic():
        scenario.save()
        _replace_children(scenario, triggers, steps)
        if "enabled" in changes:
            # A schedule switched back on starts counting from now, not from when it was switched off.
            for trigger in scenario.triggers.filter(kind="cron"):
                check_trigger(trigger)
                trigger.save(update_fields=["next_fire_at", "cron"])
        changed = (
            sorted(changes)
            + (["triggers"] if triggers is not None else [])
            + (["steps"] if steps is not None else [])
        )
        _record("scenario.updated", scenario, actor, request, changed=changed)
    return scenario


def delete_scenario(scenario: Scenario, *, actor: User, request: HttpRequest | None = None) -> None:
    """Delete a scenario with its triggers, steps and run history (a running run is cancelled first)."""
    from modelworks.scenarios.services.runs import cancel_run

    for run in scenario.runs.active():
        cancel_run(run, actor=actor, request=request)
    with transaction.atomic():
        _record("scenario.deleted", scenario, actor, request, name=scenario.name)
        scenario.delete()


# ----------------------------------------------------------------------------------------- triggers


def _resolve_refs(scenario: Scenario, data: dict[str, Any]) -> dict[str, Any]:
    """Turn ``dataset``/``upstream`` ids into objects of the scenario's project."""
    data = dict(data)
    dataset = data.get("dataset")
    if dataset is not None and not isinstance(dataset, Dataset):
        found = Dataset.objects.filter(project=scenario.project, pk=dataset).first()
        if found is None:
            raise ValidationError({"dataset": f"No dataset {dataset} in project '{scenario.project.slug}'."})
        data["dataset"] = found
    upstream = data.get("upstream")
    if upstream is not None and not isinstance(upstream, Scenario):
        found_scenario = Scenario.objects.filter(project=scenario.project, pk=upstream).first()
        if found_scenario is None:
            raise ValidationError(
                {"upstream": f"No scenario {upstream} in project '{scenario.project.slug}'."}
            )
        data["upstream"] = found_scenario
    return data


def _save_trigger(trigger: Trigger, data: dict[str, Any]) -> Trigger:
    unknown = set(data) - _TRIGGER_FIELDS
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "A trigger has no such field."})
    for key, value in _resolve_refs(trigger.scenario, data).items():
        setattr(trigger, key, "" if key == "cron" and value is None else value)
    check_trigger(trigger)
    trigger.save()
    return trigger


def add_trigger(
    scenario: Scenario, *, actor: User, request: HttpRequest | None = None, **fields: Any
) -> Trigger:
    """Add a trigger (``kind`` and its fields: ``cron``, ``dataset``, ``upstream``, ``outcome``, ``enabled``)."""
    with transaction.atomic():
        trigger = _save_trigger(Trigger(scenario=scenario), fields)
        _record(
            "scenario.trigger_added",
            scenario,
            actor,
            request,
            trigger_id=trigger.pk,
            trigger=trigger.describe(),
        )
    return trigger


def update_trigger(
    trigger: Trigger, *, actor: User, request: HttpRequest | None = None, **changes: Any
) -> Trigger:
    """Change a trigger's fields (the kind too); a schedule's next time is computed again."""
    with transaction.atomic():
        _save_trigger(trigger, changes)
        _record(
            "scenario.trigger_updated",
            trigger.scenario,
            actor,
            request,
            trigger_id=trigger.pk,
            changed=sorted(changes),
        )
    return trigger


def delete_trigger(trigger: Trigger, *, actor: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        _record(
            "scenario.trigger_deleted",
            trigger.scenario,
            actor,
            request,
            trigger_id=trigger.pk,
            trigger=trigger.describe(),
        )
        trigger.delete()


# -------------------------------------------------------------------------------------------- steps


def _save_step(step: Step, data: dict[str, Any]) -> Step:
    unknown = set(data) - _STEP_FIELDS
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "A step has no such field."})
    for key, value in data.items():
        setattr(step, key, value)
    step.run_condition = step.run_condition or RunCondition.ON_SUCCESS
    step.params = clean_step_params(step.scenario.project, step.kind, step.params, step.run_condition)
    step.name = (step.name or "").strip()[:200]
    step.save()
    return step


def add_step(scenario: Scenario, *, actor: User, request: HttpRequest | None = None, **fields: Any) -> Step:
    """Append a step (``kind``, ``params``, ``run_condition``, ``name``, ``enabled``)."""
    with transaction.atomic():
        Scenario.objects.select_for_update().filter(pk=scenario.pk).first()
        last = scenario.steps.aggregate(m=Max("position"))["m"] or 0
        step = _save_step(Step(scenario=scenario, position=last + 1), fields)
        _record("scenario.step_added", scenario, actor, request, step_id=step.pk, kind=step.kind)
    return step


def update_step(step: Step, *, actor: User, request: HttpRequest | None = None, **changes: Any) -> Step:
    """Change a step; its parameters are checked again for its (possibly new) kind."""
    with transaction.atomic():
        _save_step(step, changes)
        _record(
            "scenario.step_updated", step.scenario, actor, request, step_id=step.pk, changed=sorted(changes)
        )
    return step


def delete_step(step: Step, *, actor: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        _record("scenario.step_deleted", step.scenario, actor, request, step_id=step.pk, kind=step.kind)
        step.delete()


def move_step(step: Step, *, actor: User, offset: int, request: HttpRequest | None = None) -> Step:
    """Move a step ``offset`` places (-1: earlier, 1: later); at either end nothing changes."""
    with transaction.atomic():
        ordered = list(step.scenario.steps.select_for_update().order_by("position", "id"))
        index = next(i for i, s in enumerate(ordered) if s.pk == step.pk)
        target = index + offset
        if not 0 <= target < len(ordered):
            return step
        ordered.insert(target, ordered.pop(index))
        top = max(s.position for s in ordered) + 1
        for i, s in enumerate(ordered):  # through positions no step holds, for the unique constraint
            Step.objects.filter(pk=s.pk).update(position=top + i)
        for i, s in enumerate(ordered):
            Step.objects.filter(pk=s.pk).update(position=i + 1)
        _record("scenario.step_moved", step.scenario, actor, request, step_id=step.pk, position=target + 1)
    step.refresh_from_db()
    return step
