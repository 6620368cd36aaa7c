"""Lab writes shared by the pages, the API and the job: atomic and audited.

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
"""

from __future__ import annotations

from modelworks.lab.services.analyses import create_analysis, delete_analysis, refresh_checks, update_design
from modelworks.lab.services.register import register_model
from modelworks.lab.services.training import (
    TrainingConflict,
    cancel_training,
    reconcile_session,
    start_training,
)
from modelworks.lab.services.whatif import form_fields, score_row

__all__ = [
    "TrainingConflict",
    "cancel_training",
    "create_analysis",
    "delete_analysis",
    "form_fields",
    "reconcile_session",
    "refresh_checks",
    "register_model",
    "score_row",
    "start_training",
    "update_design",
]
