"""Virtual (pipelined) datasets in a project's flow: the app side of ``engine.flow.pipeline``.

A recipe output marked ``virtual`` (``RecipeOutput.virtual``) is never stored. The recipes that read
it compute it on the fly: a build runs each recipe that has a stored output, with the virtual
recipes it reads compiled into its own query, so a chain of recipes becomes one DuckDB query over
the stored datasets at its start, and nothing is written in between.

* Saving (``saving``): :func:`check_virtual_outputs` (a Python recipe can neither read nor write a virtual
  dataset: it runs over files) and :func:`set_virtual_outputs`.
* Planning (``planning``): :func:`pipelined_build_plan` (what ``flows.build`` runs), :func:`pipelined_fingerprints`
  (a step reading a virtual dataset depends on the recipes that compute it) and
  :func:`last_built_fingerprints` (read from stored outputs only).
* Running (``running``): :func:`prepare_step` (job thread) and :func:`execute_step` (runner thread) stand in for
  those of ``services.execution`` when a step computes virtual datasets or has a virtual output; the
  other steps go to ``services.execution`` unchanged.
* Lineage (``running``): :func:`record_fused_lineage` records each virtual recipe a step computed as a run of its
  own, so the catalog's column lineage goes from the stored inputs through the virtual datasets.
"""

from __future__ import annotations

from modelworks.flows.services.pipeline.planning import (
    last_built_fingerprints,
    pipelined_build_plan,
    pipelined_fingerprints,
    pipelined_flow,
)
from modelworks.flows.services.pipeline.running import (
    FusedExecutedStep,
    FusedPreparedStep,
    execute_step,
    prepare_step,
    record_fused_lineage,
)
from modelworks.flows.services.pipeline.saving import (
    DONT_STORE,
    check_virtual_outputs,
    set_virtual_outputs,
    virtual_keys,
)

__all__ = [
    "DONT_STORE",
    "FusedExecutedStep",
    "FusedPreparedStep",
    "check_virtual_outputs",
    "execute_step",
    "last_built_fingerprints",
    "pipelined_build_plan",
    "pipelined_fingerprints",
    "pipelined_flow",
    "prepare_step",
    "record_fused_lineage",
    "set_virtual_outputs",
    "virtual_keys",
]
