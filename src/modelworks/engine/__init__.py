"""The Modelworks engine: plain Python over tables and arrays, with no Django import.

Django apps call the engine; the engine never calls back. An import-linter contract enforces it.
"""

from __future__ import annotations

__all__: list[str] = []
