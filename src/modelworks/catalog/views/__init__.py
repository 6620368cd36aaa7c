"""Pages of the catalog app: ``catalog`` (search and documentation) and ``lineage`` (graph, nodes)."""
