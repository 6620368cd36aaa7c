"""Scenario writes shared by the pages, the API, the jobs and the scheduler: checked, atomic, audited.

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
"""

from __future__ import annotations

from modelworks.scenarios.services.cron import describe_cron, next_times, validate_cron
from modelworks.scenarios.services.definitions import DEFAULT_MESSAGE, check_trigger, clean_step_params
from modelworks.scenarios.services.notify import PLACEHOLDERS, NotificationError, render_message
from modelworks.scenarios.services.runs import cancel_run, fire_downstream, reconcile_run, start_run
from modelworks.scenarios.services.scenarios import (
    add_step,
    add_trigger,
    check_run_as,
    create_scenario,
    delete_scenario,
    delete_step,
    delete_trigger,
    move_step,
    update_scenario,
    update_step,
    update_trigger,
)

__all__ = [
    "DEFAULT_MESSAGE",
    "PLACEHOLDERS",
    "NotificationError",
    "add_step",
    "add_trigger",
    "cancel_run",
    "check_run_as",
    "check_trigger",
    "clean_step_params",
    "create_scenario",
    "delete_scenario",
    "delete_step",
    "delete_trigger",
    "describe_cron",
    "fire_downstream",
    "move_step",
    "next_times",
    "reconcile_run",
    "render_message",
    "start_run",
    "update_scenario",
    "update_step",
    "update_trigger",
    "validate_cron",
]
