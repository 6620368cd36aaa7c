"""Project bundles: a project exported to (and imported from) a readable folder of YAML files,
optionally with its data as Parquet, that can live in Git. See ``format`` for the layout.

Public API:

* ``export_project(project, folder, *, with_data=False) -> ExportReport`` and
  ``export_zip(project, destination, *, with_data=False)`` (the same bytes for the same state);
* ``import_bundle(source, *, actor, slug=None, name=None, project=None, request=None, max_bytes=None,
  drop_storage=False) -> ImportReport``: from a folder or a .zip, checked completely first, created in
  one transaction;
* ``open_bundle(source)`` to read one safely; ``BundleError`` for every refusal (the message names
  the file and what to fix); ``FORMAT_NAME``, ``FORMAT_VERSION``.

Output settings round-trip: a recipe document's ``output_settings`` say, per output, ``virtual: true``
(not stored) or ``storage: {connection: <name>, schema: <name>}``. An import restores both. A storage
connection is found by its *name* among the PostgreSQL connections the target project may use (its own
and those shared with it; a new project has none yet). **If one is missing, the import fails before
anything is created**, and the message lists the missing connection names with the outputs that use
them: the data would otherwise silently land elsewhere than the bundle says. To import anyway, pass
``drop_storage=True`` (CLI ``--drop-storage``, API form field ``drop_storage``, a checkbox on the
settings page): those outputs are then kept in Modelworks storage and the report warns once per output.

It lives in the flows app rather than in ``core``: a bundle is made of the flow's parts (datasets,
recipes, scenarios), and ``core`` is the foundation those apps build on, so it must not know them.
"""

from __future__ import annotations

from modelworks.flows.bundles.export import ExportReport, export_project, export_zip, project_files
from modelworks.flows.bundles.format import FORMAT_NAME, FORMAT_VERSION, BundleError
from modelworks.flows.bundles.importer import ImportReport, import_bundle
from modelworks.flows.bundles.reader import Bundle, open_bundle

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Bundle",
    "BundleError",
    "ExportReport",
    "ImportReport",
    "export_project",
    "export_zip",
    "import_bundle",
    "open_bundle",
    "project_files",
]
