"""The API's own documentation: the OpenAPI document, Swagger UI at /docs and ReDoc at /redoc.

Both pages load their scripts from our static files (Swagger UI from the swagger-ui-py package,
ReDoc from assets/static/vendor/redoc), so they work with the network unplugged. They need a login
unless API_DOCS_PUBLIC is set (web/routes.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app import __version__
from vcore_app.web import deps
from vcore_app.web.apidoc import document, operation
from vcore_app.web.public import public_paths
from vcore_app.web.templating import render

OPENAPI_URL = "/api/v1/openapi.json"

# Like the app's CSP (web/middleware.py), still with no inline script; but both viewers style their
# widgets with inline styles, and ReDoc runs its search index in a worker made from a blob.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class OpenAPIDocument(BaseModel):
    """This document: OpenAPI 3.1."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


@operation("This API's OpenAPI 3.1 document", tags=["docs"], responses={200: OpenAPIDocument})
async def openapi_json(request: Request) -> JSONResponse:
    cached = getattr(request.app.state, "openapi", None)
    if cached is None:
        settings = deps.settings(request)
        cached = document(
            request.app.routes,
            title=f"{settings.PROJECT_NAME} API",
            version=__version__,
            description=settings.PROJECT_DESCRIPTION,
            is_public=public_paths(settings),
        )
        request.app.state.openapi = cached
    return JSONResponse(cached)


async def swagger_page(request: Request) -> Response:
    return _page(request, "apidocs/swagger.html")


async def redoc_page(request: Request) -> Response:
    return _page(request, "apidocs/redoc.html")


def _page(request: Request, template: str) -> Response:
    response = render(request, template, {"title": deps.settings(request).PROJECT_NAME, "openapi_url": OPENAPI_URL})
    response.headers["Content-Security-Policy"] = _DOCS_CSP
    return response
