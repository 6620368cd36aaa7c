"""Pages of the model registry (namespace ``registry``)."""

from modelworks.registry.views.models import ModelListView, ModelView
from modelworks.registry.views.promotions import (
    ApprovalsView,
    PromotionApproveView,
    PromotionCancelView,
    PromotionCreateView,
    PromotionListView,
    PromotionRejectView,
    PromotionView,
    RollbackView,
)
from modelworks.registry.views.versions import (
    AliasView,
    CardMarkdownView,
    CompareView,
    DeleteVersionView,
    VersionView,
)

__all__ = [
    "AliasView",
    "ApprovalsView",
    "CardMarkdownView",
    "CompareView",
    "DeleteVersionView",
    "ModelListView",
    "ModelView",
    "PromotionApproveView",
    "PromotionCancelView",
    "PromotionCreateView",
    "PromotionListView",
    "PromotionRejectView",
    "PromotionView",
    "RollbackView",
    "VersionView",
]
