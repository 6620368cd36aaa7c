"""Pages of the core app (namespace ``core``)."""

from __future__ import annotations

from django.urls import path

from modelworks.core.views import account, admin, audit, auth, jobs, members, projects

app_name = "core"

urlpatterns = [
    # Signing in and out
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    # Projects
    path("", projects.HomeView.as_view(), name="home"),
    path("projects/<slug:slug>/", projects.ProjectView.as_view(), name="project"),
    path("projects/<slug:slug>/settings/", projects.ProjectSettingsView.as_view(), name="project_settings"),
    path("projects/<slug:slug>/delete/", projects.DeleteProjectView.as_view(), name="project_delete"),
    # Project members
    path("projects/<slug:slug>/members/add/", members.AddMemberView.as_view(), name="member_add"),
    path("projects/<slug:slug>/members/search/", members.MemberSearchView.as_view(), name="member_search"),
    path("projects/<slug:slug>/members/<int:pk>/role/", members.ChangeRoleView.as_view(), name="member_role"),
    path(
        "projects/<slug:slug>/members/<int:pk>/remove/",
        members.RemoveMemberView.as_view(),
        name="member_remove",
    ),
    # Jobs
    path("projects/<slug:slug>/jobs/", jobs.ProjectJobsView.as_view(), name="project_jobs"),
    path("projects/<slug:slug>/jobs/run/", jobs.RunJobView.as_view(), name="job_run"),
    path("jobs/", jobs.AllJobsView.as_view(), name="jobs"),
    path("jobs/<uuid:pk>/", jobs.JobView.as_view(), name="job"),
    path("jobs/<uuid:pk>/live/", jobs.JobLiveView.as_view(), name="job_live"),
    path("jobs/<uuid:pk>/cancel/", jobs.CancelJobView.as_view(), name="job_cancel"),
    path("jobs/<uuid:pk>/retry/", jobs.RetryJobView.as_view(), name="job_retry"),
    # Audit log
    path("audit/", audit.AuditView.as_view(), name="audit"),
    path("projects/<slug:slug>/audit/", audit.ProjectAuditView.as_view(), name="project_audit"),
    # The user's own settings
    path("settings/", account.SettingsView.as_view(), name="settings"),
    path("settings/profile/", account.ProfileView.as_view(), name="profile"),
    path("settings/password/", auth.password_change, name="password_change"),
    path("settings/tokens/", account.TokensView.as_view(), name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", account.RevokeTokenView.as_view(), name="token_revoke"),
    # Instance administration
    path("admin/users/", admin.UsersView.as_view(), name="admin_users"),
    path("admin/users/new/", admin.CreateUserView.as_view(), name="admin_user_create"),
    path("admin/users/<int:pk>/active/", admin.UserActiveView.as_view(), name="admin_user_active"),
    path("admin/groups/", admin.GroupsView.as_view(), name="admin_groups"),
    path("admin/groups/<int:pk>/", admin.GroupView.as_view(), name="admin_group"),
    path(
        "admin/groups/<int:pk>/members/<int:user_pk>/remove/",
        admin.RemoveGroupMemberView.as_view(),
        name="admin_group_member_remove",
    ),
]
