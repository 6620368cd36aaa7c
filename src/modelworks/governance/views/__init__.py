"""Pages of the governance app: each part has its own module(s) and its own ``urls_<part>.py``."""

from __future__ import annotations
