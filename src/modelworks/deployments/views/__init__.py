"""Pages of the deployments app."""

from __future__ import annotations
