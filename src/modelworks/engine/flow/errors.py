"""Errors of the Flow engine: a broken graph, a build that cannot be planned, a step that failed.

Every message names the recipe or dataset in question and says how to fix it; ``details`` carries
the same facts (recipe ids, dataset keys) for the page that shows them.
"""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = [
    "BlockedInputError",
    "CycleError",
    "DuplicateProducerError",
    "DuplicateRecipeError",
    "ExecutionError",
    "FlowError",
    "GraphError",
    "InvalidRecipeNodeError",
    "MissingInputError",
    "PlanError",
    "PostgresExecutionError",
    "QueryError",
    "StepCancelledError",
    "StepTimeoutError",
    "UnknownDatasetError",
]


class FlowError(EngineError):
    """Base of the errors of ``modelworks.engine.flow``."""

    code = "flow_error"


class GraphError(FlowError):
    """The recipes and datasets do not form a valid flow."""

    code = "flow_invalid"


class CycleError(GraphError):
    """Recipes feed each other in a loop; ``details["cycle"]`` lists the loop's recipe ids."""

    code = "flow_cycle"


class DuplicateProducerError(GraphError):
    """Two recipes write the same dataset."""

    code = "flow_duplicate_producer"


class DuplicateRecipeError(GraphError):
    """Two recipe nodes share an id."""

    code = "flow_duplicate_recipe"


class InvalidRecipeNodeError(GraphError):
    """A recipe node is malformed (no output, empty id…)."""

    code = "flow_invalid_recipe"


class MissingInputError(GraphError):
    """A recipe reads a dataset that neither exists nor is produced by a recipe."""

    code = "flow_missing_input"


class UnknownDatasetError(GraphError):
    """A dataset key that is not part of the flow (e.g. a build target)."""

    code = "flow_unknown_dataset"


class PlanError(FlowError):
    """A build cannot be planned; nothing ran."""

    code = "build_plan_error"


class BlockedInputError(PlanError):
    """A step would read a dataset version that failed a blocking quality rule."""

    code = "build_blocked_input"


class ExecutionError(FlowError):
    """A step failed while running; whatever it had written was removed."""

    code = "step_failed"


class QueryError(ExecutionError):
    """The database refused or failed the step's query."""

    code = "step_query_failed"


class PostgresExecutionError(QueryError):
    """The step failed inside PostgreSQL; its transaction was rolled back, no table was created."""

    code = "step_postgres_failed"


class StepTimeoutError(ExecutionError):
    """The step ran longer than its time limit and was stopped."""

    code = "step_timeout"


class StepCancelledError(ExecutionError):
    """The build was cancelled while the step ran; the step was stopped."""

    code = "step_cancelled"
