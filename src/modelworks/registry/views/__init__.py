"""Pages of the model registry (namespace ``registry``)."""

from modelworks.registry.views.models import ModelListView, ModelView
from modelworks.registry.views.versions import (
    AliasView,
    CardMarkdownView,
    CompareView,
    DeleteVersionView,
    VersionView,
)

__all__ = [
    "AliasView",
    "CardMarkdownView",
    "CompareView",
    "DeleteVersionView",
    "ModelListView",
    "ModelView",
    "VersionView",
]
