"""refresh/compat/admin_responses.py relies on three facts of the pinned libraries:
piccolo-api answers a constraint violation with {"db_error": <PostgreSQL's message>}, and
a failed login creation with the text `Error: <the exception>`; piccolo-admin's CSV export
reads the list endpoint in pages of 1000. Each test fails when
its fact changes; the adaptation itself is tested through the admin
(tests/apps/admin/test_admin_input.py, tests/apps/admin/test_csv_export.py)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import piccolo_admin
from piccolo_api.crud import exceptions
from piccolo_api.crud.endpoints import PiccoloCRUD

from refresh.compat.admin_responses import (
    EXPORT_PAGE_SIZE,
    api_error,
    db_error,
    neutralise,
)
from refresh.web.errors import HTTP_CODES, pg_error


def test_piccolo_api_still_answers_db_error_with_the_servers_message() -> None:
    source = inspect.getsource(exceptions.db_exception_handler)
    assert '"db_error": exception.message' in source
    for name in ("UniqueViolationError", "ForeignKeyViolationError", "CheckViolationError"):
        assert name in source


def test_piccolo_api_still_answers_a_failed_login_creation_with_its_text() -> None:
    source = inspect.getsource(PiccoloCRUD.post_single)
    assert "create_user" in source and 'Response(f"Error: {e}", status_code=400)' in source


def test_piccolo_admin_still_exports_csv_from_pages_of_1000() -> None:
    bundle = "".join(
        p.read_text()
        for p in (Path(piccolo_admin.__file__).parent / "dist" / "assets").glob("*.js")
    )
    assert "text/csv" in bundle
    assert EXPORT_PAGE_SIZE == "1000" and "__page_size=1e3" in bundle  # 1e3 == 1000


def test_database_messages_are_replaced_by_the_apis() -> None:
    for message, status in [
        ('duplicate key value violates unique constraint "project_pkey"', 409),
        ('insert or update on table "task" violates foreign key constraint "x_fkey"', 422),
        ('new row for relation "comment" violates check constraint "comment_body_check"', 422),
    ]:
        assert db_error(message, pg_error)[0] == status
        body = api_error(422, json.dumps({"db_error": message}).encode(), HTTP_CODES, pg_error)
        assert b"violates" not in body and b"constraint" not in body
    text = (
        b'Error: null value in column "active" of relation "piccolo_user" violates not-null'
        b" constraint\nDETAIL:  Failing row contains (3, op, pbkdf2_sha256$600000$...)"
    )
    assert json.loads(api_error(400, text, HTTP_CODES, pg_error))["error"] == {
        "code": "validation_error",
        "message": "a required value is missing",
    }
    # text that is not the server's is kept
    plain = json.loads(api_error(400, b"Unrecognised keys - {'x'}.", HTTP_CODES, pg_error))
    assert plain["error"]["message"] == "Unrecognised keys - {'x'}."


def test_formula_cells_are_neutralised_and_others_kept() -> None:
    rows = [{"a": "=1+1", "b": "+x", "c": "-y", "d": "@z", "e": "\tt", "f": "\rr", "g": "ok"}]
    assert neutralise(rows) == [
        {"a": "'=1+1", "b": "'+x", "c": "'-y", "d": "'@z", "e": "'\tt", "f": "'\rr", "g": "ok"}
    ]
    assert neutralise([{"n": -1, "t": None}]) == [{"n": -1, "t": None}]


def test_piccolo_admin_still_answers_the_user_with_its_id() -> None:
    """without_user_id blanks the field on the staff site; if piccolo-admin renames or
    drops it, the blanking has nothing to do and this fails."""
    from piccolo_admin.endpoints import AdminRouter, UserResponseModel

    assert set(UserResponseModel.model_fields) == {"username", "user_id"}
    assert "user_id=str(request.user.user_id)" in inspect.getsource(AdminRouter.get_user)
