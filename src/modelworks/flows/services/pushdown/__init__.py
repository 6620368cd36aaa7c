"""Push-down: recipes whose data lives in one PostgreSQL connection run inside that database.

A dataset version *lives in a connection* when its ``location`` names a table there: a linked import
(the live source table) or a recipe output stored in the connection (a table made for that version).
Its Parquet object is then a snapshot, a copy taken when the version was made, which everything that
reads Parquet keeps using (explore, profile, quality, Python recipes, DuckDB recipes).

Where a recipe's outputs go is a setting of each output (``RecipeOutput.storage_connection`` and
``storage_schema``): Modelworks storage, or a new table of a PostgreSQL connection per version.

A build step (see :mod:`modelworks.flows.services.execution`) then goes one of three ways:

* **inside PostgreSQL**: a visual or SQL recipe whose inputs' current versions all live in connection
  C, whose outputs are all stored in C and whose compiled queries are portable (``compiled.pushdown``)
  runs there: ``CREATE TABLE … AS`` in one transaction (``run_in_postgres``), then each new table is
  streamed into a Parquet snapshot. The data never leaves the database.
* **elsewhere, then loaded**: a recipe whose outputs are stored in a connection but which cannot run
  there (an input lives elsewhere, a function PostgreSQL lacks, a Python recipe) runs as usual and each
  output is then loaded into a new table of its connection (``adbc_ingest``, one transaction).
* otherwise as before (nothing is stored in a database).

Tables are named ``mw_<dataset id>_v<version number>_<random>`` in the output's schema (created when
missing) and never reused: a new version is a new table, so earlier versions keep theirs. When anything
fails after a table was created, the step's new tables are dropped again (best effort, logged), so a
failed build leaves no table, no file and no version behind.

Credentials are decrypted in the build job only (:func:`plan_placement`) and kept inside the source
object; they never reach job parameters, logs or messages.

Modules: :mod:`.storage` (the output setting, used by the recipe services and editor),
:mod:`.placement` (job thread: where a step runs and writes) and :mod:`.run` (runner thread: run
inside PostgreSQL, load outputs, drop a failed step's tables).
"""

from __future__ import annotations

from modelworks.flows.services.pushdown.placement import Placement, StoredTable, Target, plan_placement
from modelworks.flows.services.pushdown.run import drop_tables, run_pushdown, store_outputs
from modelworks.flows.services.pushdown.storage import (
    OutputChoice,
    OutputStorage,
    apply_storage,
    check_storage,
    named_output_settings,
    split_outputs,
    storage_choices,
    storage_of,
)

__all__ = [
    "OutputChoice",
    "OutputStorage",
    "Placement",
    "StoredTable",
    "Target",
    "apply_storage",
    "check_storage",
    "drop_tables",
    "named_output_settings",
    "plan_placement",
    "run_pushdown",
    "split_outputs",
    "storage_choices",
    "storage_of",
    "store_outputs",
]
