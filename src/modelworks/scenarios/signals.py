"""The ``dataset_changed`` trigger: a new dataset version starts the scenarios watching its dataset.

Connected in ``ScenariosConfig.ready``. The runs start once the version's transaction has committed
(``transaction.on_commit``), so a rolled-back import starts nothing.

Loop rule: a version made by a build or a job that a run of scenario S started never starts S again
(otherwise a scenario that rebuilds the dataset it watches would run forever). Other scenarios
watching that dataset do start.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from modelworks.datasets.models import DatasetVersion
from modelworks.scenarios.models import RunTrigger, ScenarioRun, Trigger, TriggerKind
from modelworks.scenarios.services.runs import start_run

__all__ = ["on_version_saved", "started_by_scenario"]

logger = logging.getLogger("modelworks.scenarios")
RECENT_RUNS = 5


def started_by_scenario(version: DatasetVersion, scenario_id: int) -> bool:
    """Whether ``version`` was made by a build or job that a recent run of the scenario started."""
    build_id = (version.how_details or {}).get("build_id")
    job_id = str(version.job_id) if version.job_id else None
    if build_id is None and job_id is None:
        return False
    for steps in ScenarioRun.objects.filter(scenario_id=scenario_id).values_list("step_results", flat=True)[
        :RECENT_RUNS
    ]:
        for result in steps or []:
            if build_id is not None and result.get("build_id") == build_id:
                return True
            if job_id is not None and job_id in (result.get("jobs") or []):
                return True
    return False


def fire_dataset_changed(version_id: int) -> list[ScenarioRun]:
    """Start the scenarios watching the dataset of version ``version_id``."""
    version = DatasetVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is None:
        return []
    runs = []
    triggers = Trigger.objects.filter(
        kind=TriggerKind.DATASET_CHANGED, dataset=version.dataset, enabled=True, scenario__enabled=True
    ).select_related("scenario__project", "scenario__run_as")
    for trigger in triggers:
        if started_by_scenario(version, trigger.scenario_id):
            logger.info(
                "Scenario %s: %s was made by its own run; not started again.", trigger.scenario.name, version
            )
            continue
        Trigger.objects.filter(pk=trigger.pk).update(last_fired_at=version.created_at)
        runs.append(
            start_run(
                trigger.scenario,
                trigger_kind=RunTrigger.DATASET_CHANGED,
                detail=f"new version {version.number} of '{version.dataset.name}'",
                trigger=trigger,
            )
        )
    return runs


def on_version_saved(
    sender: Any, instance: DatasetVersion, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """``post_save`` of ``DatasetVersion``: after the commit, fire the dataset's triggers."""
    if not created or raw:
        return
    version_id = instance.pk

    def fire() -> None:
        try:
            fire_dataset_changed(version_id)
        except Exception:  # a trigger must never break the import that made the version
            logger.exception("Starting the scenarios watching dataset version %s failed", version_id)

    transaction.on_commit(fire)
