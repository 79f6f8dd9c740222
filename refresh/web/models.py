"""Bases of the API's request models, and PATCH models derived from create models."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)

NUL_MESSAGE = "must not contain the NUL character (\\u0000), which PostgreSQL text cannot hold"


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_contains_nul(item) for item in value)
    return False


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped (a typo must not be a no-op).
    A text with a NUL character is refused here, naming its field: the database would
    refuse it later with no field to name."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _contains_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value


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


DATE_TIME_MESSAGE = "must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T09:00:00Z"
RANGE_MESSAGE = "must fall between 0001-01-01 and 9999-12-31 in UTC"

# A date, then a time: pydantic's lax mode alone would also read 1700000000, "1.7e9" or
# "+1700000000" as seconds since 1970, and a date alone as its midnight.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")

# asyncpg sends Python's first and last instants as -infinity and infinity: a date-time
# sent as either would be stored as something else than was sent.
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


def _date_time_text(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _DATE_TIME.match(value)):
        return value
    raise ValueError(DATE_TIME_MESSAGE)


def _zoned_and_storable(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-12-01T09:00:00Z")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-14:00 is in year 10000 in UTC
        raise ValueError(RANGE_MESSAGE) from None
    if not _FIRST < utc < _LAST:
        raise ValueError(RANGE_MESSAGE)
    return value


#: A date-time as the API takes it, in a body or a query: ISO 8601 with a time zone,
#: stored as sent (a timestamptz column).
ApiDatetime = Annotated[
    datetime, BeforeValidator(_date_time_text), AfterValidator(_zoned_and_storable)
]


INTEGER_MESSAGE = "must be a whole number in decimal digits, e.g. 50"
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _integer_text(value: object) -> object:
    if isinstance(value, str) and not _INTEGER.fullmatch(value):
        raise ValueError(INTEGER_MESSAGE)
    return value


#: A whole number in a query: decimal digits only. pydantic's lax mode alone also reads
#: `1.0` as 1 and `1_0` as 10 (Python's own int() spelling), which no client means.
QueryInt = Annotated[int, BeforeValidator(_integer_text)]
