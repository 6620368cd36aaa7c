"""The catalog and the lineage store.

* ``modelworks.catalog.lineage``: the lineage store (datasets, jobs, runs, dataset and column edges)
  and its Python API, ``record_run``, which other domains call; the OpenLineage ingestion
  (``POST /api/v1/lineage``) feeds the same store.
* ``modelworks.catalog.search``: one search across every dataset the user may read.
"""
