"""Registering a training's model in the model registry (a deliberate, audited step)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import User
from modelworks.lab.models import TrainingSession
from modelworks.lab.services.training import TrainingConflict

__all__ = ["register_model"]


def register_model(
    session: TrainingSession,
    *,
    actor: User,
    name: str,
    alias: str = "",
    request: HttpRequest | None = None,
) -> TrainingSession:
    """Register the session's model as a new version of ``name`` (created when new), with the exact
    dataset version it was trained on, its holdout metrics and its tracked run; point ``alias`` at it.

    All or nothing: a bad alias leaves no version behind.

    Raises:
        TrainingConflict: the session has no model.
        ValidationError: a bad model name or alias (keyed ``name`` / ``alias``).
    """
    from modelworks.registry.errors import RegistryError
    from modelworks.registry.models import LoggedModel
    from modelworks.registry.services import register_version, set_alias

    if not session.has_model or not session.logged_model_id:
        raise TrainingConflict(
            f"Training {session.number} has no model to register ({session.get_status_display().lower()})."
        )
    analysis = session.analysis
    logged = LoggedModel.objects.filter(model_id=session.logged_model_id).first()
    if logged is None:
        raise TrainingConflict(f"The model of training {session.number} is no longer in the tracking store.")
    name = str(name or "").strip()
    alias = str(alias or "").strip()
    metrics: dict[str, Any] = {}
    if session.holdout:
        metrics = {k: float(v) for k, v in (session.holdout.get("metrics") or {}).items() if v is not None}
    best = session.best_trial or {}
    # Lineage: the recipe that built the training table, when the Flow made it.
    from modelworks.flows.models import RecipeOutput

    producer = (
        RecipeOutput.objects.filter(dataset_id=session.dataset_version.dataset_id)
        .select_related("recipe")
        .first()
        if session.dataset_version is not None
        else None
    )
    description = (
        f"Trained in the Lab: analysis '{analysis.name}', training {session.number}; best of "
        f"{len(session.leaderboard)} trials: {best.get('label') or best.get('algorithm', '')}."
    )
    try:
        with transaction.atomic():
            version = register_version(
                analysis.project,
                actor=actor,
                model_name=name,
                source_dir_or_logged_model=logged,
                run=session.parent_run,
                training_dataset_version=session.dataset_version,
                recipe=producer.recipe if producer is not None else None,
                metrics=metrics,
                description=description,
                request=request,
            )
            if alias:
                set_alias(version, alias, actor=actor, request=request)
            session.registered_model_name, session.registered_version = name, version.version
            TrainingSession.objects.filter(pk=session.pk).update(
                registered_model_name=name, registered_version=version.version
            )
            audit.record(
                "lab.model_registered",
                actor=actor,
                project=analysis.project,
                target=analysis,
                request=request,
                details={
                    "session": session.number,
                    "model": name,
                    "version": version.version,
                    "alias": alias,
                },
            )
    except RegistryError as exc:
        field = exc.field if exc.field in ("alias",) else "name"
        raise ValidationError({field: exc.message}) from exc
    return session
