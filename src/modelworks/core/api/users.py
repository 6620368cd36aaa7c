"""``/users``: the user directory (everyone) and account management (instance administrators).

Any signed-in user may search the directory to add members to a project; it shows only the id,
username and display name. Account details (email, flags, dates) are for instance administrators
and for the account's owner.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core import services
from modelworks.core.api.errors import responses
from modelworks.core.models import User
from modelworks.core.permissions import require_instance_admin
from modelworks.core.schemas import MeOut, UserIn, UserOut

__all__ = ["router"]

router = Router(tags=["users"])


@router.get("/me", response=responses({200: MeOut}), operation_id="me_get", summary="Who am I")
def me_get(request: HttpRequest) -> dict[str, object]:
    """Who the caller is, and how this request was authenticated."""
    user = request.user
    token = getattr(request, "api_token", None)
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "is_instance_admin": user.is_instance_admin,
        "must_change_password": user.must_change_password,
        "auth_method": "token" if token is not None else "session",
        "token_prefix": token.key_prefix if token is not None else None,
    }


def _visible_users(caller: User) -> QuerySet:
    return User.objects.all() if caller.is_superuser else User.objects.filter(is_active=True)


@router.get(
    "/users",
    response=responses({200: list[UserOut]}, 422),
    operation_id="users_list",
    summary="Search the user directory",
)
@paginate
def users_list(request: HttpRequest, search: str | None = Query(None, max_length=150)) -> QuerySet:
    """The user directory, by username; ``search`` matches username, name or (for admins) email."""
    users = _visible_users(request.user)
    if search:
        match = (
            Q(username__icontains=search) | Q(first_name__icontains=search) | Q(last_name__icontains=search)
        )
        if request.user.is_superuser:
            match |= Q(email__icontains=search)
        users = users.filter(match)
    return users.order_by("username", "id")


@router.post(
    "/users",
    response=responses({201: UserOut}, 403, 422),
    operation_id="users_create",
    summary="Create a user",
)
def users_create(request: HttpRequest, payload: UserIn) -> Status:
    """Create an account (instance administrators)."""
    require_instance_admin(request.user)
    user = services.create_user(
        actor=request.user,
        username=payload.username,
        email=payload.email,
        password=payload.password,
        is_instance_admin=payload.is_instance_admin,
        request=request,
    )
    return Status(201, user)


@router.get(
    "/users/{user_id}",
    response=responses({200: UserOut}, 404),
    operation_id="users_get",
    summary="Get a user",
)
def users_get(request: HttpRequest, user_id: int) -> User:
    """One user of the directory (account details for administrators and the owner)."""
    user = _visible_users(request.user).filter(pk=user_id).first()
    if user is None:
        raise Http404(f"No user {user_id}.")
    return user
