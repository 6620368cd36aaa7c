"""Pages of the model registry (namespace ``registry``)."""

from __future__ import annotations

from django.urls import path

from modelworks.registry import views

app_name = "registry"

_M = "projects/<slug:slug>/models/<int:pk>/"
_V = _M + "versions/<int:number>/"
_P = _M + "promotions/<int:number>/"

urlpatterns = [
    path("projects/<slug:slug>/models/", views.ModelListView.as_view(), name="list"),
    path(_M, views.ModelView.as_view(), name="model"),
    path(_M + "aliases/", views.AliasView.as_view(), name="alias"),
    path(_M + "compare/", views.CompareView.as_view(), name="compare"),
    path(_V, views.VersionView.as_view(), name="version"),
    path(_V + "card.md", views.CardMarkdownView.as_view(), name="card_markdown"),
    path(_V + "delete/", views.DeleteVersionView.as_view(), name="delete_version"),
    # Promotions and rollback (issue 6).
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path(_M + "promotions/", views.PromotionListView.as_view(), name="promotions"),
    path(_M + "promotions/new/", views.PromotionCreateView.as_view(), name="promotion_new"),
    path(_P, views.PromotionView.as_view(), name="promotion"),
    path(_P + "approve/", views.PromotionApproveView.as_view(), name="promotion_approve"),
    path(_P + "reject/", views.PromotionRejectView.as_view(), name="promotion_reject"),
    path(_P + "cancel/", views.PromotionCancelView.as_view(), name="promotion_cancel"),
    path(_M + "aliases/<str:alias>/rollback/", views.RollbackView.as_view(), name="rollback"),
]
