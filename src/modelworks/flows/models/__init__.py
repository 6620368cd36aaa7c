"""Models of the flows app: recipes (with ordered inputs and outputs), builds, recipe history and
tables of deleted output versions to drop. Import from here."""

from __future__ import annotations

from modelworks.flows.models.builds import (
    FINISHED_BUILD_STATES,
    LOG_CAP,
    Build,
    BuildQuerySet,
    BuildStatus,
    BuildStep,
    BuildTrigger,
    StepEngine,
    StepStatus,
)
from modelworks.flows.models.cleanup import TableDrop, TableDropState
from modelworks.flows.models.history import RecipeRevision, RecipeRevisionQuerySet, RevisionChange
from modelworks.flows.models.recipes import (
    RUN_ONLY_KINDS,
    Recipe,
    RecipeInput,
    RecipeKind,
    RecipeOutput,
    RecipeQuerySet,
    spec_digest,
)

__all__ = [
    "FINISHED_BUILD_STATES",
    "LOG_CAP",
    "RUN_ONLY_KINDS",
    "Build",
    "BuildQuerySet",
    "BuildStatus",
    "BuildStep",
    "BuildTrigger",
    "Recipe",
    "RecipeInput",
    "RecipeKind",
    "RecipeOutput",
    "RecipeQuerySet",
    "RecipeRevision",
    "RecipeRevisionQuerySet",
    "RevisionChange",
    "StepEngine",
    "StepStatus",
    "TableDrop",
    "TableDropState",
    "spec_digest",
]
