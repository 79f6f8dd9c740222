"""Endpoints with their contract: one declaration gives the Starlette route, the input
validation and the OpenAPI operation, so the document cannot drift from the code."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Awaitable[Response]]
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to /api, e.g. /projects/{id}
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()


@dataclass
class Api:
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            checked = handler if query is not None else without_query(handler)
            self.endpoints.append(
                Endpoint(method, path, checked, summary, tag, body, query, response, status, errors)
            )
            return handler

        return register


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


def without_query(handler: Handler) -> Handler:
    """An endpoint that declares no query parameters refuses any: a typo (or a guessed
    option such as ?cascade=false on a DELETE) must not be silently ignored."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        if request.query_params:
            parse_query(request, NoQuery)
        return await handler(request)

    return checked


def is_list_field(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(get_origin(a) is list for a in get_args(annotation))


REPEATED = PydanticCustomError("repeated", "given more than once: give it once")


def parse_query(request: Request, model: type[Model]) -> Model:
    """Query parameters into a model: repeated keys become lists, unknown keys are errors,
    and so is a key of one value given twice (`limit=1&limit=2`: which one was meant?)."""
    data: dict[str, Any] = {}
    repeated: list[InitErrorDetails] = []
    for name in request.query_params:
        info = model.model_fields.get(name)
        if info is not None and is_list_field(info.annotation):
            values = [v for raw in request.query_params.getlist(name) for v in raw.split(",")]
            data[name] = [v for v in values if v != ""]
            continue
        given = request.query_params.getlist(name)
        if len(given) > 1:
            repeated.append(InitErrorDetails(type=REPEATED, loc=(name,), input=given))
        data[name] = given[-1]
    if repeated:
        raise QueryValidationError(ValidationError.from_exception_data(model.__name__, repeated))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise QueryValidationError(exc) from None


class QueryValidationError(Exception):
    """Invalid query parameters: 422 with the failing parameter names."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error
