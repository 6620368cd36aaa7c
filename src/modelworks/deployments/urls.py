"""Pages of the deployments app (namespace ``deployments``)."""

from __future__ import annotations

from django.urls import path

from modelworks.deployments import views

app_name = "deployments"

_P = "projects/<slug:slug>/deployments/"
_D = _P + "<slug:name>/"

urlpatterns = [
    path(_P, views.DeploymentListView.as_view(), name="list"),
    path(_P + "new/", views.DeploymentCreateView.as_view(), name="create"),
    path(_D, views.DeploymentDetailView.as_view(), name="detail"),
    path(_D + "edit/", views.DeploymentEditView.as_view(), name="edit"),
    path(_D + "pause/", views.DeploymentPauseView.as_view(), name="pause"),
    path(_D + "resume/", views.DeploymentResumeView.as_view(), name="resume"),
    path(_D + "delete/", views.DeploymentDeleteView.as_view(), name="delete"),
    path(_D + "traffic/", views.TrafficView.as_view(), name="traffic"),
    path(_D + "tokens/", views.TokenCreateView.as_view(), name="token_create"),
    path(_D + "tokens/<int:token_id>/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
]
