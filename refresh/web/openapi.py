"""The OpenAPI 3.1 document, built from the endpoint declarations (refresh/web/api.py);
refresh/web/docs.py serves the page that renders it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from refresh.web.api import Endpoint, is_list_field

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Invalid JSON",
    401: "Missing or invalid token",
    403: "Not allowed for this role",
    404: "Not found (or another tenant's)",
    409: "Conflict",
    413: "Body too large",
    415: "Not JSON",
    422: "Invalid input",
    429: "Too many requests of this tenant in progress (see Retry-After)",
    503: "Database unavailable",
}
COMMON_ERRORS = (401, 422, 429, 503)
BODY_ERRORS = (400, 413, 415)


class Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def query_schema(self, model: type[BaseModel]) -> dict[str, Any]:
        """A query model's schema, whose parameters may refer to shared schemas (enums)."""
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        self.schemas.update(schema.pop("$defs", {}))
        return schema


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def parameters(endpoint: Endpoint, components: Components) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
        for name in re.findall(r"{(\w+)}", endpoint.path)
    ]
    if endpoint.query is not None:
        schema = components.query_schema(endpoint.query)
        for name, field in endpoint.query.model_fields.items():
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": field.is_required(),
                "schema": schema["properties"][name],
            }
            if field.description:
                param["description"] = field.description
            if is_list_field(field.annotation):
                param.update(style="form", explode=True)
            params.append(param)
    return params


def operation(endpoint: Endpoint, components: Components) -> dict[str, Any]:
    handler = endpoint.handler.__name__
    op: dict[str, Any] = {
        "operationId": handler,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "security": [{"bearer": []}],
        "parameters": parameters(endpoint, components),
    }
    success: dict[str, Any] = {"description": STATUS_TEXT[endpoint.status]}
    if endpoint.response is not None:
        success["content"] = json_content(components.ref(endpoint.response))
    responses = {str(endpoint.status): success}
    errors = set(COMMON_ERRORS) | set(endpoint.errors)
    if endpoint.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": json_content(components.ref(endpoint.body)),
        }
        errors |= set(BODY_ERRORS)
    for status in sorted(errors):
        responses[str(status)] = {
            "description": STATUS_TEXT[status],
            "content": json_content({"$ref": "#/components/schemas/Error"}),
        }
    op["responses"] = responses
    return op


def openapi_document(endpoints: list[Endpoint], version: str) -> dict[str, Any]:
    components = Components()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault("/api" + endpoint.path, {})[endpoint.method.lower()] = operation(
            endpoint, components
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Refresh API",
            "version": version,
            "description": "Every /api operation runs as the caller's tenant under PostgreSQL "
            "Row-Level Security. Authenticate with a bearer JWT carrying sub and tenant_id.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
