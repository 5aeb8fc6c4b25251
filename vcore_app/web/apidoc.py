"""The API describes itself: OpenAPI 3.1 built from the route list and the pydantic models the
handlers validate with and answer in.

Each JSON handler carries an `@operation(...)`: its summary, tags, the body and query models it
parses and the model of each answer. The document is generated from those declarations and the
routes, so a route cannot exist undocumented (tests/test_api_docs.py compares both), and
`json_body` / `query_params` refuse a model other than the declared one, so what the document says a
handler accepts is what it validates. Answers are checked by the schemathesis run of the same test
file against a live server.

We generate the document ourselves (about 200 lines) rather than through spectree: our handlers
parse and answer in their own way (`{"detail": ...}` errors, form-or-JSON login, streamed logs), and
a generator over the one route list keeps the whole surface in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from starlette.routing import BaseRoute, Route, WebSocketRoute

H = TypeVar("H", bound=Callable[..., Any])

API = "/api/v1"
ID_MAX = 10**18 - 1  # the `id` path convertor's bound (web/routes.py): a bigger id is a 404, never an overflow

ResponseKind = type[BaseModel] | Literal["empty", "text", "gzip"]
# One kind per status, or several when the request picks (a JSON answer, or its text streamed).
Responses = Mapping[int, ResponseKind | tuple[ResponseKind, ...]]
_ERROR_TEXT = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed for this user",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    422: "Invalid input, naming each field",
    429: "Too many attempts; see Retry-After",
    503: "Not available now",
    507: "The data disk is full; the detail names the free space (any write may answer it)",
}


@dataclass(frozen=True)
class Operation:
    summary: str
    tags: tuple[str, ...]
    responses: Responses
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    form: bool = False  # the body may also come urlencoded (the OAuth2 password flow)
    errors: frozenset[int] = frozenset()
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def operation(
    summary: str,
    *,
    tags: Iterable[str],
    responses: Responses,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    form: bool = False,
    errors: Iterable[int] = (),
    description: str = "",
) -> Callable[[H], H]:
    """Declare what a JSON handler accepts and answers; the document is made from this."""
    declared = Operation(
        summary=summary,
        tags=tuple(tags),
        responses=dict(responses),
        body=body,
        query=query,
        form=form,
        errors=frozenset(errors),
        description=description,
    )

    def attach(handler: H) -> H:
        handler.__operation__ = declared  # type: ignore[attr-defined]
        return handler

    return attach


def declared(endpoint: Any) -> Operation | None:
    found: Operation | None = getattr(endpoint, "__operation__", None)
    return found


class ErrorDetail(BaseModel):
    """Every error but a validation error: one sentence."""

    detail: str


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorDetail(BaseModel):
    """A 422: one entry per field in error, `loc` naming where (body, query or path) and which."""

    detail: list[FieldProblem]


def document(
    routes: Iterable[BaseRoute], *, title: str, version: str, description: str, is_public: Callable[[str], bool]
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every `/api/v1` route."""
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    sockets: list[str] = []
    for route in routes:
        if isinstance(route, WebSocketRoute) and route.path.startswith(API):
            sockets.append(route.path)
        if not isinstance(route, Route) or not route.path.startswith(API):
            continue
        op = declared(route.endpoint)
        if op is None:
            raise LookupError(f"{route.path} has no @operation: declare what it accepts and answers")
        path, parameters = _path(route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                op, route, parameters, schemas, public=is_public(route.path)
            )
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        "security": [{name: []} for name in SECURITY_SCHEMES],
        "x-websockets": [{"path": path, "description": WEBSOCKET_DESCRIPTION} for path in sockets],
    }


SECURITY_SCHEMES: dict[str, Any] = {
    "OAuth2Password": {
        "type": "oauth2",
        "flows": {
            "password": {
                "tokenUrl": f"{API}/login/access-token",
                "refreshUrl": f"{API}/login/refresh-token",
                "scopes": {},
            }
        },
    },
    "BearerJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or an API key (vc_...)"},
    "APIKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
WEBSOCKET_DESCRIPTION = (
    "Live job list and log lines. Authenticate with a Bearer token or API key (header, or `?token=` for "
    'clients that cannot set headers) or the browser session. The server sends `{"jobs": [...], '
    '"total": N}` snapshots and `{"log": {"job_id", "offset", "lines"}}`; the client may send '
    '`{"subscribe_log": JOB_ID}` and `{"unsubscribe_log": JOB_ID}`. A bad message is answered with '
    '`{"error": "..."}` and the connection stays open.'
)

_CONVERTOR = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _path(template: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for name, kind in _CONVERTOR.findall(template):
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 0, "maximum": ID_MAX} if kind in ("int", "id") else {"type": "string"}
        )
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTOR.sub(r"{\1}", template), parameters


def _operation(
    op: Operation, route: Route, path_parameters: list[dict[str, Any]], schemas: dict[str, Any], *, public: bool
) -> dict[str, Any]:
    result: dict[str, Any] = {"operationId": route.name, "summary": op.summary, "tags": list(op.tags)}
    if op.description:
        result["description"] = op.description
    parameters = list(path_parameters)
    if op.query is not None:
        query = _schema(op.query, schemas, inline=True)
        required = set(query.get("required", []))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in query.get("properties", {}).items()
        ]
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        ref = _schema(op.body, schemas)
        content = {"application/json": {"schema": ref}}
        if op.form:
            content["application/x-www-form-urlencoded"] = {"schema": ref}
        result["requestBody"] = {"required": True, "content": content}
    responses: dict[str, Any] = {}
    for status, kind in sorted(op.responses.items()):
        responses[str(status)] = _response(kind, schemas)
    errors = set(op.errors)
    if not public:
        errors.add(401)
    if op.body is not None:
        errors |= {413, 422}
    if op.query is not None or path_parameters:
        errors.add(422)
    if path_parameters:
        errors.add(404)
    for status in sorted(errors):
        model = ValidationErrorDetail if status == 422 else ErrorDetail
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": _schema(model, schemas)}},
        }
    result["responses"] = responses
    if public:
        result["security"] = []
    return result


def _response(kind: ResponseKind | tuple[ResponseKind, ...], schemas: dict[str, Any]) -> dict[str, Any]:
    if isinstance(kind, tuple):
        each = [_response(one, schemas) for one in kind]
        content = {media: entry for answer in each for media, entry in answer.get("content", {}).items()}
        return {"description": " or ".join(answer["description"] for answer in each), "content": content}
    if kind == "empty":
        return {"description": "Done; no content"}
    if kind == "text":
        return {"description": "Plain text", "content": {"text/plain": {"schema": {"type": "string"}}}}
    if kind == "gzip":
        return {
            "description": "A gzip file (a download)",
            "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
        }
    assert not isinstance(kind, str)
    return {
        "description": (kind.__doc__ or kind.__name__).strip().splitlines()[0],
        "content": {"application/json": {"schema": _schema(kind, schemas)}},
    }


def _name(model: type[BaseModel]) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model.__name__).strip("_")


def _schema(model: type[BaseModel], schemas: dict[str, Any], *, inline: bool = False) -> dict[str, Any]:
    """The model's JSON schema into components (with the models it uses); a $ref to it, or the
    schema itself for query models (whose properties become parameters)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    if inline:
        return schema
    name = _name(model)
    schemas.setdefault(name, schema)
    return {"$ref": f"#/components/schemas/{name}"}
