"""One error body for the whole API: ``{"code": …, "message": …, "details": …}``.

``code`` is a stable machine-readable word that scripts may branch on; ``message`` is a sentence for
people; ``details`` holds structured facts, for validation errors one list of messages per field.

=====================  ======  ==========================================================
code                   status  when
=====================  ======  ==========================================================
``not_authenticated``  401     no credentials, or an unknown, revoked or expired token
``permission_denied``  403     signed in, but the role is too weak (or the CSRF check fails)
``not_found``          404     no such object, or one the caller may not know exists
``validation_error``   422     the request breaks a rule (400: the body is not even JSON)
``conflict``           409     the change clashes with the current state (e.g. last admin)
``payload_too_large``  413     the request body is over the size limit (also after gunzip)
``unsupported_media``  415     a body encoding or type the route does not accept
``throttled``          429     too many requests; ``Retry-After`` says when to come back
``internal_error``     500     a bug; the traceback is logged, never sent
=====================  ======  ==========================================================
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from modelworks.core.api.auth import CsrfRejected, rejected_token_message
from modelworks.core.api.parser import BodyParseError
from modelworks.core.jobs.exceptions import (
    InvalidJobParamsError,
    JobError,
    JobStateError,
    UnknownJobTypeError,
)
from modelworks.core.services import LastAdminError

if TYPE_CHECKING:
    from ninja import NinjaAPI

__all__ = ["ErrorCode", "error_body", "install_error_handlers", "responses"]

logger = logging.getLogger("modelworks.api")


class ErrorCode(StrEnum):
    """The stable ``code`` values of API error bodies."""

    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    VALIDATION_ERROR = "validation_error"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA = "unsupported_media"
    THROTTLED = "throttled"
    INTERNAL_ERROR = "internal_error"


_CODE_BY_STATUS = {
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA,
    422: ErrorCode.VALIDATION_ERROR,
    400: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.THROTTLED,
}


def error_body(code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of every API error."""
    return {"code": code.value, "message": message, "details": details or {}}


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """Django's errors keyed by field (``__all__`` for errors not tied to one field)."""
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _summary(fields: dict[str, list[str]]) -> str:
    parts = [
        f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
        for field, messages in fields.items()
    ]
    return "; ".join(parts)


def _ninja_field_errors(exc: NinjaValidationError) -> dict[str, list[str]]:
    """Pydantic errors of the request keyed by field path, e.g. ``role`` or ``limit``.

    Ninja reports locations as ``(source, parameter, field…)`` for bodies and ``(source, field)``
    for query and path parameters; the source word is dropped, and so is a body's parameter name.
    """
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        source, rest = (loc[0], loc[1:]) if loc else ("body", [])
        if source == "body" and len(rest) > 1:
            rest = rest[1:]
        field = ".".join(rest) or "__all__"
        fields.setdefault(field, []).append(str(error.get("msg", "is not valid")))
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default handlers so every failure answers with the one error body."""

    def respond(
        request: HttpRequest,
        status: int,
        code: ErrorCode,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return api.create_response(request, error_body(code, message, details), status=status)

    def on_not_authenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        message = rejected_token_message(request) or (
            "Sign in, or send an API token in the header 'Authorization: Bearer <token>'. "
            "Create tokens under Settings → API tokens or with 'modelworks token create'."
        )
        response = respond(request, 401, ErrorCode.NOT_AUTHENTICATED, message)
        response["WWW-Authenticate"] = 'Bearer realm="modelworks"'
        return response

    def on_csrf(request: HttpRequest, exc: CsrfRejected) -> HttpResponse:
        return respond(request, 403, ErrorCode.PERMISSION_DENIED, str(exc), {"reason": "csrf"})

    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) or "You do not have permission to do this."
        return respond(request, 403, ErrorCode.PERMISSION_DENIED, message)

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        message = str(exc) or "Not found, or you cannot see it."
        return respond(request, 404, ErrorCode.NOT_FOUND, message)

    def on_request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields = _ninja_field_errors(exc)
        return respond(
            request, 422, ErrorCode.VALIDATION_ERROR, f"The request is not valid: {_summary(fields)}", fields
        )

    def on_rule_broken(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        fields = _field_errors(exc)
        return respond(request, 422, ErrorCode.VALIDATION_ERROR, _summary(fields), fields)

    def on_last_admin(request: HttpRequest, exc: LastAdminError) -> HttpResponse:
        fields = _field_errors(exc)
        return respond(request, 409, ErrorCode.CONFLICT, _summary(fields), fields)

    def on_unknown_job_type(request: HttpRequest, exc: UnknownJobTypeError) -> HttpResponse:
        return respond(request, 422, ErrorCode.VALIDATION_ERROR, str(exc), {"kind": [str(exc)]})

    def on_bad_job_params(request: HttpRequest, exc: InvalidJobParamsError) -> HttpResponse:
        return respond(request, 422, ErrorCode.VALIDATION_ERROR, str(exc), {"params": [str(exc)]})

    def on_job_state(request: HttpRequest, exc: JobStateError) -> HttpResponse:
        return respond(request, 409, ErrorCode.CONFLICT, str(exc))

    def on_job_request_invalid(request: HttpRequest, exc: JobError) -> HttpResponse:
        return respond(request, 422, ErrorCode.VALIDATION_ERROR, str(exc))

    def on_integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # A uniqueness race the service's own checks could not see: the object now exists.
        logger.warning("integrity error on %s %s: %s", request.method, request.path, exc)
        return respond(
            request,
            409,
            ErrorCode.CONFLICT,
            "The change clashes with data that already exists; reload and try again.",
        )

    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = int(exc.wait) + 1 if exc.wait is not None else None
        message = "Too many requests." + (f" Try again in {wait} seconds." if wait else " Try again later.")
        return respond(request, 429, ErrorCode.THROTTLED, message, {"retry_after_seconds": wait})

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = _CODE_BY_STATUS.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
        message = str(exc)
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):
            cause = exc.__cause__
            message = (
                str(cause)
                if isinstance(cause, BodyParseError)
                else "The request body is not valid JSON; send a JSON object with Content-Type: application/json."
            )
        return respond(request, exc.status_code, code, message)

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # Raised when the body is read, before the operation runs (Django's DATA_UPLOAD_MAX_MEMORY_SIZE).
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return respond(
            request,
            413,
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The request body is larger than the {limit:,} bytes a JSON request may have; send less "
            "data per request (upload files as multipart form data instead).",
            {"limit_bytes": limit},
        )

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Too many form fields or files, a malformed multipart body…: the client's fault, not a bug.
        return respond(request, 400, ErrorCode.VALIDATION_ERROR, f"The request was refused: {exc}")

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # The traceback goes to the server log only: it can reveal paths, settings and data.
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        return respond(
            request,
            500,
            ErrorCode.INTERNAL_ERROR,
            "Something went wrong on the server. The error was logged; try again, and tell your "
            "administrator if it persists.",
        )

    api.add_exception_handler(AuthenticationError, on_not_authenticated)
    api.add_exception_handler(CsrfRejected, on_csrf)
    api.add_exception_handler(PermissionDenied, on_permission_denied)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(NinjaValidationError, on_request_invalid)
    api.add_exception_handler(DjangoValidationError, on_rule_broken)
    api.add_exception_handler(LastAdminError, on_last_admin)
    api.add_exception_handler(UnknownJobTypeError, on_unknown_job_type)
    api.add_exception_handler(InvalidJobParamsError, on_bad_job_params)
    api.add_exception_handler(JobStateError, on_job_state)
    api.add_exception_handler(JobError, on_job_request_invalid)
    api.add_exception_handler(IntegrityError, on_integrity)
    api.add_exception_handler(Throttled, on_throttled)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(RequestDataTooBig, on_too_big)
    api.add_exception_handler(SuspiciousOperation, on_suspicious)
    api.add_exception_handler(Exception, on_unexpected)


def responses(ok: dict[int, Any], *error_statuses: int) -> dict[int, Any]:
    """An operation's ``response=`` mapping: its success schema plus the documented error bodies.

    401 is always listed: every operation requires authentication.
    """
    from modelworks.core.schemas import ErrorOut

    return {**ok, **{status: ErrorOut for status in (401, *error_statuses)}}
