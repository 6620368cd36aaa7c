"""Flow writes and reads shared by the pages, the API, the build job and other apps.

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
Recipe changes are validated by the engine before anything is saved, atomic and audited
(``flows.recipe_created`` / ``_updated`` / ``_deleted``); builds are submitted with
``submit_build`` (``flows.build_submitted``) and run by the ``flows.build`` job.
"""

from __future__ import annotations

from modelworks.flows.services.analysis import StepProblem, recipe_sql, step_columns
from modelworks.flows.services.builds import (
    BuildConflictError,
    blocked_inputs,
    build_plan,
    cancel_build,
    current_fingerprints,
    last_built_fingerprints,
    submit_build,
    sync_build_status,
)
from modelworks.flows.services.graph import (
    FlowProblem,
    RecipeShape,
    check_flow,
    dataset_key,
    flow_graph,
    propagate_schemas,
)
from modelworks.flows.services.preview import (
    PREVIEW_SAMPLE_ROWS,
    PreviewError,
    RecipeDraft,
    join_preview_report,
    python_preview_seconds,
    recipe_preview,
)
from modelworks.flows.services.recipes import (
    ValidatedRecipe,
    create_recipe,
    delete_recipe,
    recipes_using,
    update_recipe,
    validate_recipe,
)
from modelworks.flows.services.state import DatasetState, FlowState, flow_state

__all__ = [
    "PREVIEW_SAMPLE_ROWS",
    "BuildConflictError",
    "DatasetState",
    "FlowProblem",
    "FlowState",
    "PreviewError",
    "RecipeDraft",
    "RecipeShape",
    "StepProblem",
    "ValidatedRecipe",
    "blocked_inputs",
    "build_plan",
    "cancel_build",
    "check_flow",
    "create_recipe",
    "current_fingerprints",
    "dataset_key",
    "delete_recipe",
    "flow_graph",
    "flow_state",
    "join_preview_report",
    "last_built_fingerprints",
    "propagate_schemas",
    "python_preview_seconds",
    "recipe_preview",
    "recipe_sql",
    "recipes_using",
    "step_columns",
    "submit_build",
    "sync_build_status",
    "update_recipe",
    "validate_recipe",
]
