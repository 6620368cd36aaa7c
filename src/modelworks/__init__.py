"""Modelworks: a self-hosted AI factory.

The package is split into a plain-Python ``engine`` and thin Django apps (``core`` and one app per
domain) under the ``config`` project. See ``docs/architecture.md``.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
