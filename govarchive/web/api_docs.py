"""``/docs``: the JSON API's endpoints listed from the app's own OpenAPI schema.

FastAPI's default ``/docs`` loads Swagger UI from a CDN and is blank offline or behind a
firewall; this page is plain HTML served by the app, with the schema one link away.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from govarchive.web.deps import templates

api_docs = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # "path" or "query"
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter]


def _type_of(schema: dict) -> str:
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"] if s.get("type") != "null")
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    return schema.get("type", "")


def endpoints(openapi: dict) -> list[Endpoint]:
    """Each operation of the schema, in the schema's order."""
    found = []
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            parameters = [
                Parameter(
                    name=p["name"], where=p.get("in", ""), type=_type_of(p.get("schema", {})),
                    required=bool(p.get("required")), description=p.get("description", ""),
                )
                for p in operation.get("parameters", [])
            ]
            found.append(Endpoint(method.upper(), path, operation.get("summary", ""),
                                  operation.get("description", ""), parameters))
    return found


@api_docs.get("/docs", response_class=HTMLResponse)
def api_docs_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "api_docs.html", {
        "endpoints": endpoints(request.app.openapi()),
    })
