"""refresh/compat/piccolo_admin_bodies.py: the first test watches piccolo-api and
piccolo-admin (each assertion fails when the library stops needing the adaptation); the
others check the body checks themselves. Through the admin: tests/apps/admin/
test_admin_hostile_input.py."""

from __future__ import annotations

import inspect

import pytest
from piccolo_admin.endpoints import AdminRouter, TableConfig
from piccolo_api.change_password.endpoints import ChangePasswordEndpoint
from piccolo_api.crud.endpoints import PiccoloCRUD

from apps.admin.tables import AdminUser
from apps.tasks.tables import Task
from refresh.compat.piccolo_admin_bodies import BadBody, check, kinds, unencodable


def test_piccolo_api_still_takes_true_for_a_number_and_bodies_as_they_come() -> None:
    model = PiccoloCRUD(Task).pydantic_model_optional(priority=True)
    assert model.priority == 1  # lax: JSON true saved as priority 1
    assert "len(new_password)" in inspect.getsource(ChangePasswordEndpoint.post)
    form = inspect.getsource(AdminRouter.post_single_form)
    assert "data = await request.json()" in form and "pydantic_model(**data)" in form


def test_column_kinds() -> None:
    found = kinds([TableConfig(Task), TableConfig(AdminUser)])
    assert found["task"]["priority"] == "number" and found["task"]["title"] == "other"
    assert found["piccolo_user"]["active"] == "boolean"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"[" * 100_000, 400, "not valid JSON"),
        (b'{"title": "a\\ud800"}', 422, "title"),
        (b'{"tags": ["ok", "\\udfff"]}', 422, "tags.1"),
        (b'{"priority": true}', 422, "priority"),
        (b'{"active": 1}', 422, "active"),
        (b'{"colour": "red", "title": "x"}', 422, "colour"),
    ],
)
def test_bad_bodies_are_named(body: bytes, status: int, says: str) -> None:
    columns = {**kinds([TableConfig(Task)])["task"], "active": "boolean"}
    with pytest.raises(BadBody) as bad:
        check(body, columns)
    assert bad.value.status == status and says in bad.value.message


def test_good_bodies_pass() -> None:
    columns = kinds([TableConfig(Task)])["task"]
    check(b'{"title": "caf\\u00e9", "priority": 2, "tags": ["a"], "due_at": null}', columns)
    check(b"[1, 2]", columns)  # not an object: piccolo-api's own 422
    assert unencodable({"a": [{"b": "ok"}]}) is None
    deep: list[object] = []
    nested = deep
    for _ in range(5_000):  # deeper than recursion would go: walked with a stack
        nested.append([])
        nested = nested[0]  # type: ignore[assignment]
    nested.append("\ud800")
    assert unencodable(deep) is not None
