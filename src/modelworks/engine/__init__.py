"""The Modelworks engine: plain Python over tables and arrays, with no Django import.

Django apps call the engine; the engine never calls back. An import-linter contract enforces it.

Packages (each states its public API in ``__all__``):

* ``io``: the object store, file import into immutable Parquet versions, CSV export.
* ``explore``: filtered, sorted pages of a version.
* ``profiling``: per-column statistics, histograms, frequent values, semantic types.
* ``quality``: data quality rules and their runner.

``duck`` opens the locked-down DuckDB connections they all use; ``errors`` is the root of their
error hierarchies (every error has a stable ``code`` and structured ``details`` for the API).
"""

from __future__ import annotations

__all__: list[str] = []
