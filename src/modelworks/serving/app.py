"""The scoring service's HTTP application: a raw ASGI callable, no framework in the way.

Routes (every answer is JSON except ``/metrics``):

* ``POST /score/<endpoint>`` and ``POST /score/<endpoint>/invocations`` (MLflow clients): score the
  body (any input format ``ScoringModel.parse`` takes); ``?explain=true`` adds per-row explanations
  when the deployment allows them.
* ``GET /score/<endpoint>/ping``: an authenticated liveness check of one endpoint.
* ``GET /health``: anonymous, ``{"status": "ok"}`` and nothing else.
* ``GET /metrics``: Prometheus text, with ``Authorization: Bearer <MODELWORKS_SERVING_METRICS_TOKEN>``.

Authentication: ``Authorization: Bearer mwe_…``, a token of that endpoint's deployment. No token
gives 401; a wrong, revoked or expired token, or another endpoint's, gives 403. An endpoint that
does not exist or is paused answers exactly like a wrong token (401 without a token, 403 with one),
so a caller cannot probe which endpoint names exist. An active endpoint whose model cannot answer
(its alias is gone, its files cannot be loaded) answers 503 to any caller that sends a token,
without details (they are in the service log and on the deployment page).

Every error is ``{"error_code": "...", "message": "..."}`` with a 4xx for the caller's mistakes
(bad JSON, missing column, too many rows, body too large…) and 5xx only for the service's own
failures; one bad request never affects the next.

What a request costs (measured by CPU time per request, see ``bench/bench_scoring.py``): a single
row is parsed, scored and answered on the event loop, with no thread hand-off (bodies up to 1 MiB,
see ``_INLINE_BODY_BYTES``); the answer is encoded once by orjson (NumPy values natively); request
ids come from a per-worker random prefix and a counter, not a system call; the prediction log only
queues references on the request path (``predlog`` converts and writes them in bulk); metrics are
a few dictionary updates under a lock. What remains per single-row request is mostly uvicorn's
HTTP handling and the model's own predict.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import logging
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from modelworks.serving.metrics import ServingMetrics
from modelworks.serving.predlog import PredictionLog
from modelworks.serving.routing import Route, Router, choose_answering

__all__ = ["ScoringApp", "ServingLimits"]

logger = logging.getLogger("modelworks.serving")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: Bodies up to this size (about 1,500 rows of 30 numbers) are parsed and scored on the event loop:
#: from ~0.1 ms for one row to ~25 ms of CPU for 1,000 rows of the benchmark's model. Handing them to
#: a thread cost more than it saved: a hand-off per request, then the event loop and the thread
#: taking the GIL from each other while both parse. Larger bodies and explanations (SHAP) go to a
#: thread, so a 10,000-row batch does not hold up /health and small requests for a fraction of a
#: second; the worker processes are what scales the service.
_INLINE_BODY_BYTES = 1024 * 1024
_INPUT_STATUS = {"too_many_rows": 413}


class ServingLimits:
    """Limits and secrets that do not change while the service runs."""

    def __init__(self, *, max_body_bytes: int, metrics_token: str) -> None:
        self.max_body_bytes = max_body_bytes
        self.metrics_token = metrics_token


class _Refused(Exception):
    """A request refused with a status and a JSON error (internal control flow)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        *,
        where: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []
        self.where = where or {}


def _error_body(code: str, message: str, where: dict[str, Any] | None = None) -> bytes:
    # ``where``: the column and row of an input error, for programs that point at the cell.
    return orjson.dumps({"error_code": code, "message": message, **(where or {})})


def _input_error_types() -> tuple[type[BaseException], ...]:
    try:
        from modelworks.engine.scoring import ScoringInputError
    except ImportError:  # pragma: no cover - the engine is part of the package
        return ()
    return (ScoringInputError,)


class ScoringApp:
    """The ASGI application of one worker process.

    Args:
        router: holds the current routing table (swapped by the worker's reload thread).
        metrics: this worker's counters.
        predlog: where sampled predictions go (``None``: not logged).
        limits: body size cap and the metrics token.
        background: runs shadow scoring after the answer is sent.
    """

    def __init__(
        self,
        router: Router,
        metrics: ServingMetrics,
        predlog: PredictionLog | None,
        limits: ServingLimits,
        *,
        background: ThreadPoolExecutor | None = None,
    ) -> None:
        self.router = router
        self.metrics = metrics
        self.predlog = predlog
        self.limits = limits
        self.background = background or ThreadPoolExecutor(max_workers=1, thread_name_prefix="serving-bg")
        self.scoring_pool = ThreadPoolExecutor(
            max_workers=max(2, (os.cpu_count() or 2)), thread_name_prefix="serving-score"
        )
        self.used_tokens: set[str] = set()  # hashes, handed to the database once a minute
        self._input_errors = _input_error_types()
        self._health = orjson.dumps({"status": "ok"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        if path.startswith("/score/"):
            await self._score_route(scope, receive, send, path, started)
        elif path == "/health":
            if scope["method"] not in ("GET", "HEAD"):
                await self._send(
                    send, 405, _error_body("method_not_allowed", "use GET /health"), [(b"allow", b"GET")]
                )
            else:
                await self._send(send, 200, self._health)
        elif path == "/metrics":
            await self._metrics(scope, send)
        else:
            await self._send(
                send,
                404,
                _error_body(
                    "not_found",
                    f"no such address: {path[:200]}; score with POST /score/<endpoint>, check with GET /health",
                ),
            )

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _send(
        send: Send,
        status: int,
        body: bytes,
        headers: list[tuple[bytes, bytes]] | None = None,
        content_type: bytes = b"application/json",
    ) -> None:
        all_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if headers:
            all_headers.extend(headers)
        await send({"type": "http.response.start", "status": status, "headers": all_headers})
        await send({"type": "http.response.body", "body": body})

    # -------------------------------------------------------------------------------------- metrics

    async def _metrics(self, scope: Scope, send: Send) -> None:
        if not self.limits.metrics_token:
            await self._send(
                send,
                403,
                _error_body(
                    "metrics_disabled",
                    "the metrics endpoint is off: set MODELWORKS_SERVING_METRICS_TOKEN to a long random "
                    "value and send it as 'Authorization: Bearer <token>'",
                ),
            )
            return
        header = _header(scope, b"authorization")
        if header is None:
            await self._send(
                send,
                401,
                _error_body(
                    "unauthenticated", "send 'Authorization: Bearer <MODELWORKS_SERVING_METRICS_TOKEN>'"
                ),
                [(b"www-authenticate", b"Bearer")],
            )
            return
        given = _bearer(header)
        if given is None or not hmac.compare_digest(given.encode(), self.limits.metrics_token.encode()):
            await self._send(
                send, 403, _error_body("forbidden", "the token is not MODELWORKS_SERVING_METRICS_TOKEN")
            )
            return
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(self.background, self.metrics.render)
        await self._send(send, 200, text.encode(), content_type=b"text/plain; version=0.0.4; charset=utf-8")

    # -------------------------------------------------------------------------------------- scoring

    async def _score_route(
        self, scope: Scope, receive: Receive, send: Send, path: str, started: float
    ) -> None:
        rest = path[7:].rstrip("/")
        name, _, action = rest.partition("/")
        endpoint_label = ""
        version_label = ""
        status = 200
        try:
            if action not in ("", "invocations", "ping") or not name:
                raise _Refused(
                    404,
                    "not_found",
                    f"no such address: {path[:200]}; use POST /score/<endpoint> or /score/<endpoint>/invocations",
                )
            method = scope["method"]
            if action == "ping":
                if method not in ("GET", "HEAD"):
                    raise _Refused(405, "method_not_allowed", "use GET for /ping", [(b"allow", b"GET")])
            elif method != "POST":
                raise _Refused(
                    405,
                    "method_not_allowed",
                    f"use POST to score (got {method}); send the rows as JSON in the body",
                    [(b"allow", b"POST")],
                )
            headers = _headers(scope)
            route = self._authenticate(name, headers.get(b"authorization"))
            endpoint_label = name
            if action == "ping":
                await self._send(send, 200, orjson.dumps({"status": "ok", "endpoint": name}))
                self.metrics.observe_request(name, "", 200, time.perf_counter() - started)
                return
            status, version_label = await self._score(scope, receive, send, route, headers, started)
        except _Refused as refused:
            status = refused.status
            self.metrics.count_error(endpoint_label, refused.code)
            await self._send(
                send,
                refused.status,
                _error_body(refused.code, refused.message, refused.where),
                refused.headers,
            )
        except Exception:
            status = 500
            logger.exception("scoring failed on %s", path[:200])
            self.metrics.count_error(endpoint_label, "internal_error")
            await self._send(
                send,
                500,
                _error_body(
                    "internal_error",
                    "the scoring service failed on this request; the service log has the details",
                ),
            )
        self.metrics.observe_request(endpoint_label, version_label, status, time.perf_counter() - started)

    def _authenticate(self, name: str, authorization: bytes | None) -> Route:
        if authorization is None:
            raise _Refused(
                401,
                "unauthenticated",
                f"send the endpoint's token: 'Authorization: Bearer mwe_…' (create one on the deployment "
                f"page of '{name[:100]}')",
                [(b"www-authenticate", b"Bearer")],
            )
        token = _bearer(authorization)
        table = self.router.table
        route = table.routes.get(name)
        digest = hashlib.sha256(token.encode()).hexdigest() if token else ""
        if route is None or digest not in route.config.token_hashes:
            if route is None and token and name in table.problems:
                raise _Refused(
                    503,
                    "endpoint_unavailable",
                    f"endpoint '{name}' cannot answer now; its deployment page in Modelworks says why",
                )
            raise _Refused(
                403,
                "forbidden",
                f"this token is not valid for endpoint '{name[:100]}': it is wrong, revoked or expired, "
                "belongs to another endpoint, or the endpoint does not exist or is paused",
            )
        self.used_tokens.add(digest)
        if route.unavailable:
            raise _Refused(503, "model_unavailable", route.unavailable)
        return route

    async def _read_body(self, receive: Receive, headers: dict[bytes, bytes]) -> bytes:
        cap = self.limits.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                raise _Refused(400, "bad_request", "the Content-Length header is not a number") from None
            if length > cap:
                raise _Refused(
                    413,
                    "body_too_large",
                    f"the body has {length:,} bytes, more than the limit of {cap:,} "
                    "(MODELWORKS_SCORING_MAX_BODY_BYTES); send fewer rows per request",
                    [(b"connection", b"close")],
                )
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refused(
                    400, "client_disconnected", "the client went away before sending the whole body"
                )
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise _Refused(
                    413,
                    "body_too_large",
                    f"the body is larger than the limit of {cap:,} bytes (MODELWORKS_SCORING_MAX_BODY_BYTES); "
                    "send fewer rows per request",
                    [(b"connection", b"close")],
                )
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _score(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: Route,
        headers: dict[bytes, bytes],
        started: float,
    ) -> tuple[int, str]:
        config = route.config
        explain = _explain_requested(scope.get("query_string", b""))
        if explain and not config.explain_allowed:
            raise _Refused(
                400,
                "explain_not_allowed",
                f"explanations are off for endpoint '{config.name}'; a project contributor can allow them "
                "in the deployment's settings, or call without ?explain=true",
            )
        body = await self._read_body(receive, headers)
        content_type = (headers.get(b"content-type") or b"application/json").split(b";", 1)[0].strip().lower()
        target = choose_answering(route)
        request_id = _request_id(headers.get(b"x-request-id"))
        work = (
            target.model,
            body,
            config.max_rows,
            content_type.decode("latin-1"),
            config.id_column,
            explain,
        )
        try:
            if len(body) <= _INLINE_BODY_BYTES and not explain:
                batch, result = _parse_and_predict(*work)
            else:
                loop = asyncio.get_running_loop()
                batch, result = await loop.run_in_executor(self.scoring_pool, _parse_and_predict, *work)
        except self._input_errors as exc:
            code = str(getattr(exc, "code", "bad_input"))
            where = {k: getattr(exc, k) for k in ("column", "row") if getattr(exc, k, None) is not None}
            raise _Refused(_INPUT_STATUS.get(code, 400), code, str(exc), where=where) from None
        answer: dict[str, Any] = {"predictions": result.predictions}
        if result.probabilities is not None:
            answer["probabilities"] = result.probabilities
        if explain and result.explanations is not None:
            answer["explanations"] = result.explanations
        answer["model_version"] = target.label
        answer["request_id"] = request_id
        payload = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
        await self._send(send, 200, payload, [(b"x-modelworks-request-id", request_id.encode())])
        latency_ms = (time.perf_counter() - started) * 1000.0
        self.metrics.count_rows(config.name, target.label, target.role, int(batch.rows))
        # After the answer. The prediction log only queues references here (its thread converts and
        # writes them in bulk); shadows score on the background thread: neither delays the caller.
        predlog = self.predlog
        if predlog is not None and (
            config.log_sample_rate >= 1.0 or random.random() < config.log_sample_rate  # noqa: S311 (sampling, not secrets)
        ):
            ts = time.time()
            predlog.append(config, target, batch, result, request_id, ts, latency_ms, answered=True)
            if route.shadows:  # shadows score only what is logged: their result is never used otherwise
                self.background.submit(self._score_shadows, route, batch, request_id, ts)
        return 200, target.label

    def _score_shadows(self, route: Route, batch: Any, request_id: str, ts: float) -> None:
        config = route.config
        try:
            for shadow in route.shadows:
                try:
                    shadow_result = shadow.model.predict(batch)
                except Exception as exc:
                    self.metrics.count_error(config.name, "shadow_failed")
                    logger.warning(
                        "shadow model %s failed on endpoint %s: %s", shadow.label, config.name, exc
                    )
                    continue
                self.metrics.count_rows(config.name, shadow.label, "shadow", int(batch.rows))
                if self.predlog is not None:
                    self.predlog.append(
                        config, shadow, batch, shadow_result, request_id, ts, None, answered=False
                    )
        except Exception:
            logger.exception("could not score the shadows of request %s", request_id)


def _parse_and_predict(
    model: Any, body: bytes, max_rows: int, content_type: str, id_column: str, explain: bool
) -> tuple[Any, Any]:
    batch = model.parse(body, max_rows=max_rows, content_type=content_type, id_column=id_column or None)
    return batch, model.predict(batch, explain=explain)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    # Header names arrive lower-cased (ASGI); a repeated header keeps its first value.
    found: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        if key not in found:
            found[key] = value
    return found


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _bearer(header: bytes) -> str | None:
    scheme, _, value = header.partition(b" ")
    if scheme.lower() != b"bearer":
        return None
    token = value.strip()
    if not token:
        return None
    try:
        return token.decode("ascii")
    except UnicodeDecodeError:
        return None


def _explain_requested(query: bytes) -> bool:
    if not query:
        return False
    for part in query.split(b"&"):
        key, _, value = part.partition(b"=")
        if key == b"explain":
            return value.lower() in (b"true", b"1", b"yes")
    return False


class _RequestIds:
    """Request ids of one worker: 16 random hex digits drawn once, then an 8-digit counter.

    Unique across workers and restarts like ``os.urandom(12).hex()`` per request, without a system
    call per request (``getrandom`` costs tens of microseconds on a busy machine).
    """

    def __init__(self) -> None:
        self.pid = -1
        self.prefix = ""
        self.counter = itertools.count()

    def next(self) -> str:
        if self.pid != os.getpid():  # a forked worker draws its own prefix
            self.pid = os.getpid()
            self.prefix = os.urandom(8).hex()
            self.counter = itertools.count()
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFF:08x}"


_request_ids = _RequestIds()


def _request_id(given: bytes | None) -> str:
    if given:
        text = given.decode("latin-1")
        if _REQUEST_ID.match(text):
            return text
    return _request_ids.next()
