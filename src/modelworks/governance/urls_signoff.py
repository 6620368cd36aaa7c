"""Sign-off pages (namespace ``governance``, names ``signoff_*``).

``governance:signoff_new`` takes ``?model=<registered model pk>&version=<number>&alias=<name>`` to
fill the form in, e.g. from a button on a registry version page.
"""

from __future__ import annotations

from django.urls import path

from modelworks.governance.views import signoff as views

_P = "projects/<slug:slug>/signoff/"
_R = _P + "requests/<int:pk>/"

urlpatterns = [
    path("governance/signoff/reviews/", views.SignoffWaitingView.as_view(), name="signoff_waiting"),
    path(_P, views.SignoffProjectView.as_view(), name="signoff_project"),
    path(_P + "policy/", views.SignoffPolicyView.as_view(), name="signoff_policy"),
    path(_P + "new/", views.SignoffNewView.as_view(), name="signoff_new"),
    path(_R, views.SignoffRequestView.as_view(), name="signoff_request"),
    path(_R + "reviews/<int:review>/decide/", views.SignoffDecideView.as_view(), name="signoff_decide"),
    path(_R + "cancel/", views.SignoffCancelView.as_view(), name="signoff_cancel"),
]
