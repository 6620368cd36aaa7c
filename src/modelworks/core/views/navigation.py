"""What the navigation of every page needs to know about the signed-in user, computed on first use."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from modelworks.core.models import Project, Role

SWITCHER_LIMIT = 30


class NavigationMenu:
    """The project switcher's projects and the links the user may follow.

    Each answer is computed only when a template asks for it, so pages and answers that do not show
    the menu (API calls, HTMX fragments) cost no query.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.user: Any = getattr(request, "user", None)

    @property
    def _signed_in(self) -> bool:
        return self.user is not None and self.user.is_authenticated

    @cached_property
    def projects(self) -> list[Project]:
        if not self._signed_in:
            return []
        return list(Project.objects.visible_to(self.user).only("slug", "name")[:SWITCHER_LIMIT])

    @cached_property
    def can_see_audit(self) -> bool:
        """Instance admins, and admins of at least one project."""
        if not self._signed_in:
            return False
        return self.user.is_superuser or Project.objects.with_role(self.user, Role.ADMIN).exists()

    @cached_property
    def portfolio_role(self) -> str:
        """``lead``, ``viewer`` or "" (the governance portfolio's role; superusers are leads)."""
        if not self._signed_in:
            return ""
        # Imported here: the navigation serves every app, and the governance app builds on core.
        from modelworks.governance.services.access import portfolio_role

        role = portfolio_role(self.user)
        return str(role) if role else ""
