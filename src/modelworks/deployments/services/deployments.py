"""Create, change, pause, resume and delete deployments, with their targets checked against the
registry. Every write is atomic, audited, and moves the routing revision the scoring service polls."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project
from modelworks.deployments.models import (
    Deployment,
    DeploymentMode,
    DeploymentStatus,
    DeploymentTarget,
    TargetRole,
)
from modelworks.deployments.runtime import bump_revision

__all__ = [
    "TargetSpec",
    "create_deployment",
    "delete_deployment",
    "deployments_using",
    "pause_deployment",
    "resume_deployment",
    "update_deployment",
]

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TARGETS = 5
RESERVED_NAMES = frozenset({"new"})  # /deployments/new/ is the create page


@dataclass(frozen=True)
class TargetSpec:
    """A target as a caller describes it: a registered model of the project, and either an alias
    (follows promotions) or a version number (pinned)."""

    model: str
    alias: str = ""
    version: int | None = None
    role: str = TargetRole.PRIMARY
    weight: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TargetSpec:
        version = data.get("version")
        weight = data.get("weight")
        return cls(
            model=str(data.get("model") or "").strip(),
            alias=str(data.get("alias") or "").strip(),
            version=None if version in (None, "") else version,
            role=str(data.get("role") or TargetRole.PRIMARY).strip(),
            weight=None if weight in (None, "") else weight,
        )


# -- checks ---------------------------------------------------------------------------------------
def _max_rows_limit() -> int:
    return int(getattr(settings, "MODELWORKS_SCORING_MAX_ROWS", 10_000))


def clean_name(name: Any, *, exclude: Deployment | None = None) -> str:
    """A valid endpoint name, free on this instance.

    Raises:
        ValidationError: on ``name``.
    """
    text = str(name or "").strip()
    if not text:
        raise ValidationError({"name": "Give the deployment a name; it becomes the endpoint /score/<name>."})
    if not _NAME.match(text):
        raise ValidationError(
            {
                "name": f"'{text[:80]}' cannot be an endpoint name: use 1 to 63 lowercase letters, digits "
                "and hyphens, starting and ending with a letter or digit (e.g. 'late-departures')."
            }
        )
    if text in RESERVED_NAMES:
        raise ValidationError({"name": f"'{text}' is reserved by the pages; choose another endpoint name."})
    taken = Deployment.objects.filter(name=text)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(
            {
                "name": f"The endpoint name '{text}' is already used on this instance (perhaps in another "
                "project); choose another name."
            }
        )
    return text


def _clean_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The optional settings of a deployment, checked (only the keys present)."""
    cleaned: dict[str, Any] = {}
    if "title" in values:
        title = str(values["title"] or "").strip()
        if len(title) > 200:
            raise ValidationError({"title": f"The title is {len(title)} characters long; the limit is 200."})
        cleaned["title"] = title
    if "description" in values:
        cleaned["description"] = str(values["description"] or "").strip()
    if "log_sample_rate" in values:
        try:
            rate = float(values["log_sample_rate"])
        except (TypeError, ValueError):
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise ValidationError(
                {
                    "log_sample_rate": "The share of requests to log must be a number from 0 (none) to 1 "
                    f"(all); got {str(values['log_sample_rate'])[:40]!r}."
                }
            )
        cleaned["log_sample_rate"] = rate
    if "max_rows" in values:
        limit = _max_rows_limit()
        try:
            rows = int(values["max_rows"])
        except (TypeError, ValueError):
            rows = 0
        if not 1 <= rows <= limit:
            raise ValidationError(
                {
                    "max_rows": f"The largest batch must be a whole number from 1 to {limit:,} (this "
                    f"instance's limit, MODELWORKS_SCORING_MAX_ROWS); got {str(values['max_rows'])[:40]!r}."
                }
            )
        cleaned["max_rows"] = rows
    if "id_column" in values:
        column = str(values["id_column"] or "").strip()
        if len(column) > 200 or _CONTROL.search(column):
            raise ValidationError(
                {"id_column": "The ID column must be a column name of at most 200 printable characters."}
            )
        cleaned["id_column"] = column
    if "explain_allowed" in values:
        cleaned["explain_allowed"] = bool(values["explain_allowed"])
    return cleaned


def _role_names(mode: str) -> str:
    return {
        DeploymentMode.SINGLE: "one 'primary' target",
        DeploymentMode.AB: "one 'primary' target and at least one 'challenger' target",
        DeploymentMode.SHADOW: "one 'primary' target and at least one 'shadow' target",
    }[DeploymentMode(mode)]


def _build_targets(project: Project, mode: str, specs: Sequence[TargetSpec]) -> list[DeploymentTarget]:
    """Unsaved targets for ``specs``, each checked against the project's registry.

    Raises:
        ValidationError: on ``targets``, naming the target (``target 2: …``) and the fix.
    """
    from modelworks.registry.models import ModelAlias, RegisteredModel

    if mode not in DeploymentMode.values:
        raise ValidationError({"mode": f"Unknown mode '{str(mode)[:40]}'; choose single, ab or shadow."})
    if not specs:
        raise ValidationError(
            {"targets": f"Choose the model to serve: a {mode} deployment needs {_role_names(mode)}."}
        )
    if len(specs) > MAX_TARGETS:
        raise ValidationError(
            {"targets": f"A deployment routes to at most {MAX_TARGETS} models; got {len(specs)}."}
        )
    built: list[DeploymentTarget] = []
    for number, spec in enumerate(specs, start=1):
        where = f"Target {number}"
        if spec.role not in TargetRole.values:
            raise ValidationError(
                {"targets": f"{where}: unknown role '{spec.role[:40]}'; use primary, challenger or shadow."}
            )
        if not spec.model:
            raise ValidationError({"targets": f"{where}: choose a registered model."})
        model = RegisteredModel.objects.filter(project=project, name=spec.model).first()
        if model is None:
            raise ValidationError(
                {
                    "targets": f"{where}: project '{project.slug}' has no registered model '{spec.model[:100]}'. "
                    "Register it first (Lab → Register, or mlflow.register_model)."
                }
            )
        if bool(spec.alias) == (spec.version is not None):
            raise ValidationError(
                {
                    "targets": f"{where} ({model.name}): give either an alias (e.g. 'champion', follows "
                    "promotions) or a version number (pinned), not both and not neither."
                }
            )
        target = DeploymentTarget(registered_model=model, role=spec.role)
        if spec.alias:
            if not ModelAlias.objects.filter(registered_model=model, alias=spec.alias).exists():
                known = sorted(model.aliases.values_list("alias", flat=True))
                hint = (
                    f"its aliases are {', '.join(known)}"
                    if known
                    else "it has no alias yet; set one in the registry"
                )
                raise ValidationError(
                    {"targets": f"{where}: model '{model.name}' has no alias '{spec.alias[:100]}' ({hint})."}
                )
            target.alias = spec.alias
        else:
            try:
                number_ = int(str(spec.version))
            except (TypeError, ValueError):
                number_ = 0
            version = model.versions.filter(version=number_).first() if number_ > 0 else None
            if version is None:
                latest = model.latest_version()
                hint = f"versions go from 1 to {latest.version}" if latest else "it has no version yet"
                raise ValidationError(
                    {
                        "targets": f"{where}: model '{model.name}' has no version {str(spec.version)[:20]} ({hint})."
                    }
                )
            target.model_version = version
        if spec.weight is not None:
            try:
                weight = int(str(spec.weight))
            except (TypeError, ValueError):
                weight = -1
            if not 0 <= weight <= 100:
                raise ValidationError(
                    {
                        "targets": f"{where}: the weight is a share of traffic in percent, from 0 to 100; got {str(spec.weight)[:20]}."
                    }
                )
            target.weight = weight
        built.append(target)

    roles = [t.role for t in built]
    allowed = {
        DeploymentMode.SINGLE: {TargetRole.PRIMARY},
        DeploymentMode.AB: {TargetRole.PRIMARY, TargetRole.CHALLENGER},
        DeploymentMode.SHADOW: {TargetRole.PRIMARY, TargetRole.SHADOW},
    }[DeploymentMode(mode)]
    wrong = [f"target {i} is '{r}'" for i, r in enumerate(roles, start=1) if r not in allowed]
    if roles.count(TargetRole.PRIMARY) != 1 or wrong:
        problem = f"{roles.count(TargetRole.PRIMARY)} primary targets" if not wrong else ", ".join(wrong)
        raise ValidationError({"targets": f"A {mode} deployment needs {_role_names(mode)}; got {problem}."})
    if mode == DeploymentMode.AB:
        if TargetRole.CHALLENGER not in roles:
            raise ValidationError(
                {"targets": "An A/B split needs at least one 'challenger' target next to the primary one."}
            )
        if any(s.weight is None for s in specs):
            raise ValidationError(
                {"targets": "An A/B split needs a weight (percent of traffic) on every target."}
            )
        total = sum(t.weight for t in built)
        if total != 100:
            shares = " + ".join(f"{t.registered_model.name} {t.weight}" for t in built)
            raise ValidationError(
                {"targets": f"The A/B weights must add up to 100 (percent of traffic); {shares} = {total}."}
            )
    else:
        if mode == DeploymentMode.SHADOW and TargetRole.SHADOW not in roles:
            raise ValidationError(
                {"targets": "Shadow mode needs at least one 'shadow' target: the model that scores silently."}
            )
        for target in built:  # only A/B uses weights: the primary answers everything
            target.weight = 100 if target.role == TargetRole.PRIMARY else 0
    return built


def _target_details(targets: Sequence[DeploymentTarget]) -> list[dict[str, Any]]:
    return [{"role": t.role, "target": t.reference, "weight": t.weight} for t in targets]


# -- writes ---------------------------------------------------------------------------------------
def create_deployment(
    project: Project,
    *,
    actor: Any,
    name: str,
    mode: str = DeploymentMode.SINGLE,
    targets: Sequence[TargetSpec],
    request: HttpRequest | None = None,
    **options: Any,
) -> Deployment:
    """Deploy registered models of ``project`` at ``/score/<name>`` (active at once).

    Args:
        project: the project whose registry the targets come from.
        actor: who deploys (contributor or above; the caller checks the role).
        name: the endpoint name, unique on the instance.
        mode: ``single``, ``ab`` or ``shadow``.
        targets: the models to route to (see ``TargetSpec``).
        request: for the audit log.
        **options: ``title``, ``description``, ``log_sample_rate``, ``max_rows``, ``id_column``,
            ``explain_allowed``.

    Raises:
        ValidationError: keyed by field (``name``, ``mode``, ``targets``, or an option).
    """
    unknown = set(options) - {
        "title",
        "description",
        "log_sample_rate",
        "max_rows",
        "id_column",
        "explain_allowed",
    }
    if unknown:
        raise ValueError(f"unknown deployment options: {sorted(unknown)}")
    name = clean_name(name)
    cleaned = _clean_settings(options)
    built = _build_targets(project, str(mode), targets)
    with transaction.atomic():
        name = clean_name(name)  # checked again in the transaction; the unique index is the last word
        deployment = Deployment.objects.create(
            project=project,
            name=name,
            mode=mode,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **{"title": name, **cleaned},
        )
        for target in built:
            target.deployment = deployment
        DeploymentTarget.objects.bulk_create(built)
        bump_revision()
        audit.record(
            "deployment.created",
            actor=actor,
            project=project,
            target=deployment,
            request=request,
            details={"name": name, "mode": mode, "targets": _target_details(built)},
        )
    return deployment


def update_deployment(
    deployment: Deployment,
    *,
    actor: Any,
    mode: str | None = None,
    targets: Sequence[TargetSpec] | None = None,
    request: HttpRequest | None = None,
    **options: Any,
) -> Deployment:
    """Change a deployment's mode, targets or settings (the name is the endpoint: it never changes).

    ``targets`` replaces all targets; when only ``mode`` changes, the current targets are checked
    against the new mode. The scoring service picks the change up within a second.

    Raises:
        ValidationError: keyed by field.
    """
    unknown = set(options) - {
        "title",
        "description",
        "log_sample_rate",
        "max_rows",
        "id_column",
        "explain_allowed",
    }
    if unknown:
        raise ValueError(f"unknown deployment options: {sorted(unknown)}")
    cleaned = _clean_settings(options)
    new_mode = str(mode) if mode is not None else deployment.mode
    if targets is None and new_mode != deployment.mode:
        targets = [
            TargetSpec(
                model=t.registered_model.name,
                alias=t.alias,
                version=t.model_version.version if t.model_version else None,
                role=t.role,
                weight=t.weight,
            )
            for t in deployment.targets.select_related("registered_model", "model_version")
        ]
    built = _build_targets(deployment.project, new_mode, targets) if targets is not None else None
    with transaction.atomic():
        locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
        before = {"mode": locked.mode, **{k: getattr(locked, k) for k in cleaned}}
        for key, value in cleaned.items():
            setattr(locked, key, value)
        locked.mode = new_mode
        locked.save()
        details: dict[str, Any] = {
            "name": locked.name,
            "changed": {
                k: {"from": before[k], "to": getattr(locked, k)}
                for k in before
                if before[k] != getattr(locked, k)
            },
        }
        if built is not None:
            old = list(locked.targets.select_related("registered_model", "model_version"))
            details["targets_before"] = _target_details(old)
            locked.targets.all().delete()
            for target in built:
                target.deployment = locked
            DeploymentTarget.objects.bulk_create(built)
            details["targets"] = _target_details(built)
        bump_revision()
        audit.record(
            "deployment.updated",
            actor=actor,
            project=locked.project,
            target=locked,
            request=request,
            details=details,
        )
    return locked


def _set_status(
    deployment: Deployment, status: str, action: str, *, actor: Any, request: HttpRequest | None
) -> Deployment:
    with transaction.atomic():
        locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if locked.status == status:
            return locked  # nothing changes, so nothing to audit
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        bump_revision()
        audit.record(
            action,
            actor=actor,
            project=locked.project,
            target=locked,
            request=request,
            details={"name": locked.name},
        )
    return locked


def pause_deployment(deployment: Deployment, *, actor: Any, request: HttpRequest | None = None) -> Deployment:
    """Stop serving (callers get 503 'paused'); targets, tokens and history stay. Idempotent."""
    return _set_status(deployment, DeploymentStatus.PAUSED, "deployment.paused", actor=actor, request=request)


def resume_deployment(
    deployment: Deployment, *, actor: Any, request: HttpRequest | None = None
) -> Deployment:
    """Serve again, with the versions the aliases point at now. Idempotent."""
    return _set_status(
        deployment, DeploymentStatus.ACTIVE, "deployment.resumed", actor=actor, request=request
    )


def delete_deployment(deployment: Deployment, *, actor: Any, request: HttpRequest | None = None) -> None:
    """Delete a deployment with its targets, tokens and feedback; the endpoint stops at once.

    The prediction log files stay (monitoring history); the registered models are untouched.
    """
    with transaction.atomic():
        details = {
            "name": deployment.name,
            "mode": deployment.mode,
            "targets": _target_details(
                list(deployment.targets.select_related("registered_model", "model_version"))
            ),
            "tokens": deployment.tokens.count(),
            "feedback": deployment.feedback.count(),
        }
        audit.record(
            "deployment.deleted",
            actor=actor,
            project=deployment.project,
            target=deployment,
            request=request,
            details=details,
        )
        deployment.delete()
        bump_revision()


def deployments_using(*, model: Any = None, version: Any = None) -> list[Deployment]:
    """Deployments with a target on ``model`` (any way) or pinned to ``version``, for messages such as
    "version 3 is served by 'late-departures'; change that deployment first"."""
    query = Deployment.objects.all()
    if model is not None:
        query = query.filter(targets__registered_model=model)
    if version is not None:
        query = query.filter(targets__model_version=version)
    return list(query.distinct().order_by("name"))
