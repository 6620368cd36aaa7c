"""Flow writes and reads shared by the pages, the API, the build job and other apps.

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
Recipe changes are validated by the engine before anything is saved, atomic and audited
(``flows.recipe_created`` / ``_updated`` / ``_deleted``); builds are submitted with
``submit_build`` (``flows.build_submitted``) and run by the ``flows.build`` job.
"""

from __future__ import annotations

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
from modelworks.flows.services.preview import RecipeDraft, recipe_preview
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
    "BuildConflictError",
    "DatasetState",
    "FlowProblem",
    "FlowState",
    "RecipeDraft",
    "RecipeShape",
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
    "last_built_fingerprints",
    "propagate_schemas",
    "recipe_preview",
    "recipes_using",
    "submit_build",
    "sync_build_status",
    "update_recipe",
    "validate_recipe",
]
