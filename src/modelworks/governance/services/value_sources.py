"""Where a value definition reads: the prediction logs a use case may choose (:func:`log_choices`), the
log a definition reads (:func:`value_source`, a :class:`LogSource`) and its columns, and
``_compute()``, the lazily loaded computing half (:mod:`modelworks.governance.services.value_compute`)
so that importing the value services stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from modelworks.governance.models import UseCase, ValueDefinition
from modelworks.governance.services.value_common import RealisedValueError

if TYPE_CHECKING:
    from types import ModuleType


def _compute() -> ModuleType:
    """The computing half (Arrow, DuckDB, SQLGlot), loaded on first use: the pages and the API import
    this module when the web server starts and must not pay for them then."""
    from modelworks.governance.services import value_compute

    return value_compute


def predictions_root() -> Path:
    return Path(settings.MODELWORKS_PREDICTIONS_DIR)


@dataclass(frozen=True)
class LogSource:
    """The prediction log a definition reads."""

    source: str  # deployment-<id> or recipe-<id>
    label: str  # "deployment 'late-flights'"
    deployment: Any | None  # deployments.Deployment (feedback comes from it)
    project: Any  # core.Project the log belongs to


# -- where a definition reads --------------------------------------------------------------------
def log_choices(use_case: UseCase) -> list[tuple[str, str]]:
    """The prediction logs a definition of ``use_case`` may read: deployments and batch-scoring
    recipes of the use case's linked projects, as ``("deployment:<id>" | "recipe:<id>", label)``."""
    from modelworks.deployments.models import Deployment
    from modelworks.flows.models import Recipe

    projects = list(use_case.projects.all())
    choices = [
        (f"deployment:{d.pk}", f"Deployment {d.name} ({d.project.name})")
        for d in Deployment.objects.filter(project__in=projects).select_related("project").order_by("name")
    ]
    choices += [
        (f"recipe:{r.pk}", f"Batch scoring recipe {r.name} ({r.project.name})")
        for r in Recipe.objects.filter(project__in=projects, kind="score")
        .select_related("project")
        .order_by("name")
    ]
    return choices


def value_source(definition: ValueDefinition) -> LogSource:
    """The prediction log of a ``prediction_log`` definition.

    Raises:
        RealisedValueError: ``deployment_gone`` / ``recipe_gone`` when what it read was deleted,
            ``no_source`` when it names none.
    """
    from modelworks.flows.models import Recipe

    recipe_id = (definition.details or {}).get("recipe")
    if recipe_id:
        recipe = Recipe.objects.select_related("project").filter(pk=recipe_id).first()
        if recipe is None:
            name = definition.details.get("source_name") or f"#{recipe_id}"
            raise RealisedValueError(
                f"the batch-scoring recipe {name!r} whose prediction log '{definition.name}' read has been "
                "deleted; edit the definition and choose another prediction log.",
                code="recipe_gone",
                field="source",
            )
        return LogSource(f"recipe-{recipe.pk}", f"batch-scoring recipe '{recipe.name}'", None, recipe.project)
    if definition.deployment_id is None:
        name = (definition.details or {}).get("source_name")
        if name:
            raise RealisedValueError(
                f"the deployment {name!r} whose prediction log '{definition.name}' read has been deleted; "
                "edit the definition and choose another deployment, or delete the definition (its "
                "measurements so far stay until then).",
                code="deployment_gone",
                field="source",
            )
        raise RealisedValueError(
            f"'{definition.name}' reads no prediction log; edit it and choose a deployment.",
            code="no_source",
            field="source",
        )
    deployment = definition.deployment
    assert deployment is not None
    return LogSource(
        deployment.prediction_source, f"deployment '{deployment.name}'", deployment, deployment.project
    )


def _signature_features(log: LogSource) -> dict[str, str]:
    """Input features of the model answering for ``log`` (to check formulas before any traffic)."""
    from modelworks.monitoring.services.sources import signature_inputs

    deployment = log.deployment
    if deployment is None:
        return {}
    target = (
        deployment.targets.filter(role="primary").select_related("registered_model", "model_version").first()
    )
    if target is None:
        return {}
    version = target.model_version
    if version is None:
        from modelworks.registry.errors import RegistryError
        from modelworks.registry.services import get_version_by_alias

        try:
            version = get_version_by_alias(target.registered_model, target.alias)
        except RegistryError:
            return {}
    return dict.fromkeys(signature_inputs(version), "any")


def _columns(log: LogSource) -> dict[str, str]:
    return _compute().log_columns(predictions_root(), log.source) or _compute().default_columns(
        _signature_features(log)
    )
