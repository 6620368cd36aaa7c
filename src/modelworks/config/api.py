"""The REST API: one NinjaAPI under /api/v1 that mounts each app's router, explicitly.

Every operation requires authentication (a bearer token or a signed-in session; see
``modelworks.core.api.auth``) and answers errors with ``{code, message, details}`` (see
``modelworks.core.api.errors``). The OpenAPI schema and the interactive docs need a signed-in
user too, and the docs page loads Swagger UI from this instance's static files, never a CDN.
"""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

import modelworks
from modelworks.catalog import api as catalog_api
from modelworks.connections import api as connections_api
from modelworks.core.api import audit, fallback, groups, jobs, members, projects, tokens, users
from modelworks.core.api.auth import api_auth, docs_login_required
from modelworks.core.api.errors import install_error_handlers
from modelworks.core.api.parser import StrictJsonParser
from modelworks.datasets import api as datasets_api
from modelworks.deployments import api as deployments_api
from modelworks.flows import api as flows_api
from modelworks.governance import api as governance_api
from modelworks.lab import api as lab_api
from modelworks.monitoring import api as monitoring_api
from modelworks.scenarios import api as scenarios_api

api = NinjaAPI(
    title="Modelworks API",
    version=modelworks.__version__,
    description=(
        "REST API of Modelworks. Authenticate with `Authorization: Bearer <token>` (create tokens under "
        "Settings → API tokens or with `modelworks token create`), or with a signed-in session plus the "
        "`X-CSRFToken` header for writes. Errors are `{code, message, details}`; lists are paginated with "
        "`limit` (at most 500) and `offset`."
    ),
    urls_namespace="api",
    auth=api_auth(),
    # validatorUrl null: Swagger UI would otherwise send the schema to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_decorator=docs_login_required,
    parser=StrictJsonParser(),  # duplicated keys, NaN and non-UTF-8 bodies are refused (400)
)
install_error_handlers(api)

api.add_router("", users.router)
api.add_router("", projects.router)
api.add_router("", members.router)
api.add_router("", groups.router)
api.add_router("", tokens.router)
api.add_router("", jobs.router)
api.add_router("", audit.router)
api.add_router("", connections_api.router)
api.add_router("", datasets_api.router)
api.add_router("", catalog_api.router)
api.add_router("", flows_api.router)
api.add_router("", scenarios_api.router)
api.add_router("", lab_api.router)
api.add_router("", deployments_api.router)
api.add_router("", monitoring_api.router)
api.add_router("", governance_api.router)
api.add_router("", fallback.router)  # last: any other path is a JSON 404
