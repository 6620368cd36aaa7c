"""Pages of the connections app (namespace ``connections``)."""

from __future__ import annotations

from django.urls import path

from modelworks.connections import views

app_name = "connections"

urlpatterns = [
    path("projects/<slug:slug>/connections/", views.ConnectionListView.as_view(), name="list"),
    path("projects/<slug:slug>/connections/new/", views.ConnectionCreateView.as_view(), name="create"),
    path("projects/<slug:slug>/connections/<int:pk>/", views.ConnectionView.as_view(), name="detail"),
    path(
        "projects/<slug:slug>/connections/<int:pk>/delete/",
        views.ConnectionDeleteView.as_view(),
        name="delete",
    ),
    path("projects/<slug:slug>/connections/<int:pk>/test/", views.ConnectionTestView.as_view(), name="test"),
    path("admin/connections/", views.InstanceConnectionsView.as_view(), name="admin_list"),
    path("admin/connections/<int:pk>/", views.InstanceConnectionView.as_view(), name="admin_detail"),
    path(
        "admin/connections/<int:pk>/delete/",
        views.InstanceConnectionDeleteView.as_view(),
        name="admin_delete",
    ),
    path("admin/connections/<int:pk>/test/", views.InstanceConnectionTestView.as_view(), name="admin_test"),
]
