"""refresh/web/models.py: a PATCH model derived from its create model."""

from __future__ import annotations

import uuid

import pytest
from pydantic import Field, ValidationError, field_validator

from refresh.web.models import Strict, patch_model


class ThingCreate(Strict):
    name: str = Field(min_length=1, max_length=10)
    owner_id: uuid.UUID | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("tags")
    @classmethod
    def _unique(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


ThingPatch = patch_model(ThingCreate, "ThingPatch")


def test_absent_fields_are_unchanged_and_sent_ones_validated_as_on_create() -> None:
    assert ThingPatch.model_validate({}).model_dump(exclude_unset=True) == {}
    assert ThingPatch.model_validate({"name": " a "}).model_dump(exclude_unset=True) == {
        "name": "a"
    }
    assert ThingPatch.model_validate({"tags": ["x", "x"]}).model_dump(exclude_unset=True) == {
        "tags": ["x"]
    }


@pytest.mark.parametrize("body", [{"name": None}, {"name": ""}, {"tags": None}, {"typo": 1}])
def test_null_only_where_create_takes_it(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ThingPatch.model_validate(body)
    assert ThingPatch.model_validate({"owner_id": None}).model_dump(exclude_unset=True) == {
        "owner_id": None
    }


def test_the_schema_shows_no_required_field_and_no_null_default() -> None:
    schema = ThingPatch.model_json_schema()
    assert "required" not in schema
    assert all("default" not in field for field in schema["properties"].values())
    assert schema["properties"]["name"]["maxLength"] == 10
