"""Bases of the API's request models, and PATCH models derived from create models."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped (a typo must not be a no-op)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _no_default(schema: dict[str, Any]) -> None:
    # A patch field that is absent is left unchanged: it has no default value to show.
    schema.pop("default", None)


def patch_model(create: type[M], name: str) -> type[M]:
    """`create`'s fields, each optional: a field that is absent stays unchanged, and
    null is accepted only where `create` accepts it (e.g. an optional assignee). The
    constraints and validators of `create` apply to the fields that are sent."""
    fields: dict[str, Any] = {
        field: (
            info.annotation,
            FieldInfo.merge_field_infos(
                info, default=None, default_factory=None, json_schema_extra=_no_default
            ),
        )
        for field, info in create.model_fields.items()
    }
    return create_model(name, __base__=create, __module__=create.__module__, **fields)
