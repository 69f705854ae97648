"""The OpenAPI document as the API answers: the bearer token every ``/api`` operation needs,
operation ids a generated client can read (the handler's name), and each error status an
operation can answer, as a problem document (``errors.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from .errors import PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "Problem",
    "description": "RFC 9457 problem details; `error` and `message` as the contract names "
                   "them, and each error's details (`allowed_events`, `problems`, `field`...)",
    "required": ["type", "title", "status", "detail", "error", "message"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:relais:problem:event_refused"]},
        "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "error": {"type": "string", "description": "machine-readable code"},
        "message": {"type": "string", "description": "a sentence in the language of "
                    "Accept-Language (fr, de, it, en; French by default)"},
        "problems": {"type": "array", "items": {"type": "object"}},
        "allowed_events": {"type": "array", "items": {"type": "string"}},
        "field": {"type": "string"},
    },
    "additionalProperties": True,
}
WHY = {"401": "no token, or not a valid one",
       "403": "the token's role may not do this",
       "404": "nothing there (a case, a route, a programme...), or nothing the caller may know "
              "exists",
       "409": "not possible in the case's current state",
       "412": "`If-Match` names a version a decision has overtaken",
       "413": "the body is too large",
       "422": "the request is malformed or misses an item"}


def operation_id(route: APIRoute) -> str:
    return route.name


def _statuses(path: str, method: str, op: dict[str, Any]) -> list[str]:
    statuses = ["401", "403", "413", "422"] if method in ("post", "put", "patch") \
        else ["401", "403", "422"]
    if "{" in path or op.get("parameters"):  # a case, a route, a period... named by the caller
        statuses.append("404")
    if method in ("post", "put", "patch", "delete"):
        statuses.append("409")
    if any(p.get("name") == "if-match" for p in op.get("parameters", [])):
        statuses.append("412")
    return statuses


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description,
                          routes=app.routes)
        components = doc.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["schemas"].pop("HTTPValidationError", None)
        components["schemas"].pop("ValidationError", None)
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        problem = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for path, item in doc.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for method, op in item.items():
                op["security"] = [{"bearer": []}]
                responses = op.setdefault("responses", {})
                for status in _statuses(path, method, op):
                    responses[status] = {"description": WHY[status], **problem}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
