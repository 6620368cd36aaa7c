"""Realised value of use cases: value definitions, their computation and pushed measurements.

* :func:`create_definition`, :func:`update_definition`, :func:`delete_definition`: what a use case
  measures (leads and the business owner; the caller checks it). Formulas are checked against the
  columns of the prediction log when they are saved, so errors show in the form.
* :func:`compute_definition`: realised value per period from the prediction log joined with the
  deployment's feedback; replaces the definition's computed measurements atomically.
* :func:`push_measurement`: a value sent through the API for one period (idempotent per period).
* :func:`value_overview`: what the use case's value page shows (estimated vs realised per period).

A definition reads the log of its ``deployment`` or, for a batch-scoring recipe, of the recipe
named by ``details["recipe"]`` (its id); recipes get no feedback, so ``label`` comes from a labels dataset named by ``details["labels"]`` (see :func:`dataset_labels_table`) or is null.
Each definition remembers its last computation in ``details``: ``last_computed_at``,
``last_error`` (``{"code", "message", "field"}`` or absent), ``rows`` (rows read) and
``next_run_at`` (used by :mod:`modelworks.governance.services.value_schedule`).

The code lives in sibling modules, re-exported here: :mod:`~modelworks.governance.services.value_sources`
(where a definition reads), :mod:`~modelworks.governance.services.value_definitions` (create, update,
delete), :mod:`~modelworks.governance.services.value_measurements` (computed and pushed measurements)
and :mod:`~modelworks.governance.services.value_overview` (what the pages show).
"""

from __future__ import annotations

from modelworks.governance.services.value_common import RealisedValueError
from modelworks.governance.services.value_definitions import clean_definition as clean_definition
from modelworks.governance.services.value_definitions import (
    create_definition,
    delete_definition,
    update_definition,
)
from modelworks.governance.services.value_definitions import source_key as source_key
from modelworks.governance.services.value_measurements import (
    ComputeResult,
    compute_definition,
    push_measurement,
)
from modelworks.governance.services.value_measurements import dataset_labels_table as dataset_labels_table
from modelworks.governance.services.value_measurements import labels_table as labels_table
from modelworks.governance.services.value_measurements import parse_period as parse_period
from modelworks.governance.services.value_overview import (
    definition_in_words,
    estimated_per_period,
    value_overview,
)
from modelworks.governance.services.value_overview import monthly_realised as monthly_realised
from modelworks.governance.services.value_overview import realised_total as realised_total
from modelworks.governance.services.value_sources import LogSource as LogSource
from modelworks.governance.services.value_sources import log_choices, value_source
from modelworks.governance.services.value_sources import predictions_root as predictions_root

__all__ = [
    "ComputeResult",
    "RealisedValueError",
    "compute_definition",
    "create_definition",
    "definition_in_words",
    "delete_definition",
    "estimated_per_period",
    "log_choices",
    "push_measurement",
    "update_definition",
    "value_overview",
    "value_source",
]
